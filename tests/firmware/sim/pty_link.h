/* The MCU's UART0 on a pseudo-terminal: what the firmware sends goes to the pty, what the host
 * writes to the pty goes into the UART's receive FIFO as fast as the UART takes it. Unlike
 * simavr's uart_pty part it runs in the simulation's own thread, uses no fixed /tmp path, and
 * never drops a byte: a host that does not read stalls the simulation instead. */
#ifndef PTY_LINK_H
#define PTY_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sim_avr.h>

#define PTY_QUEUE 65536

typedef struct {
    avr_t *avr;
    int master;
    int slave; /* kept open so that bytes are never written to a pty nobody holds */
    char path[64];
    avr_irq_t *uart_in;
    bool uart_ready; /* the receiver is on and its FIFO has room */
    uint8_t in[PTY_QUEUE];
    size_t in_head, in_len;
    uint8_t out[PTY_QUEUE];
    size_t out_len;
    bool host_spoke; /* the host has sent at least one byte */
} pty_link_t;

/* Opens the pty (raw mode) and hooks UART0. Returns 0, or -1 with errno. */
int pty_link_init(pty_link_t *link, avr_t *avr);

/* Moves bytes both ways without blocking; blocks only while the host is not reading and
 * more than half the queue is waiting. */
void pty_link_service(pty_link_t *link);

/* Reads what the host sent without passing it on (before the MCU runs). */
void pty_link_poll_host(pty_link_t *link, int timeout_ms);

/* Writes out everything queued, waiting up to timeout_ms. */
void pty_link_drain(pty_link_t *link, int timeout_ms);

#endif

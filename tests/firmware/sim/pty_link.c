/* UART0 ↔ pseudo-terminal (see pty_link.h). */
#define _GNU_SOURCE
#include "pty_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <avr_uart.h>
#include <sim_io.h>

#include "sim_log.h"

static void uart_output(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    pty_link_t *link = (pty_link_t *)param;
    if (link->out_len < PTY_QUEUE) {
        link->out[link->out_len++] = (uint8_t)value;
    } else {
        sim_event("tx_overflow"); /* cannot happen: the simulation waits for the host first */
    }
}

static void uart_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    (void)value;
    ((pty_link_t *)param)->uart_ready = true;
}

static void uart_xoff(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    ((pty_link_t *)param)->uart_ready = value == 0;
}

int pty_link_init(pty_link_t *link, avr_t *avr)
{
    memset(link, 0, sizeof *link);
    link->avr = avr;
    link->master = posix_openpt(O_RDWR | O_NOCTTY);
    if (link->master < 0 || grantpt(link->master) || unlockpt(link->master)) {
        return -1;
    }
    snprintf(link->path, sizeof link->path, "%s", ptsname(link->master));
    link->slave = open(link->path, O_RDWR | O_NOCTTY);
    if (link->slave < 0) {
        return -1;
    }
    struct termios raw;
    tcgetattr(link->slave, &raw);
    cfmakeraw(&raw); /* no echo, no CR/LF translation: the bytes are binary frames */
    tcsetattr(link->slave, TCSANOW, &raw);
    fcntl(link->master, F_SETFL, fcntl(link->master, F_GETFL) | O_NONBLOCK);

    uint32_t flags = 0; /* no copy of the output on the console, no sleeping in UART polls */
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    link->uart_in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT),
                            uart_output, link);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON),
                            uart_xon, link);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF),
                            uart_xoff, link);
    return 0;
}

static void read_host(pty_link_t *link)
{
    while (link->in_len < PTY_QUEUE) {
        size_t tail = (link->in_head + link->in_len) % PTY_QUEUE;
        size_t room = tail >= link->in_head ? PTY_QUEUE - tail : link->in_head - tail;
        ssize_t n = read(link->master, link->in + tail, room);
        if (n <= 0) {
            return;
        }
        link->in_len += (size_t)n;
        link->host_spoke = true;
    }
}

static void write_host(pty_link_t *link)
{
    size_t done = 0;
    while (done < link->out_len) {
        ssize_t n = write(link->master, link->out + done, link->out_len - done);
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    memmove(link->out, link->out + done, link->out_len - done);
    link->out_len -= done;
}

void pty_link_poll_host(pty_link_t *link, int timeout_ms)
{
    struct pollfd p = {link->master, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) > 0) {
        read_host(link);
    }
}

void pty_link_service(pty_link_t *link)
{
    read_host(link);
    while (link->in_len && link->uart_ready) {
        uint8_t byte = link->in[link->in_head];
        link->in_head = (link->in_head + 1) % PTY_QUEUE;
        link->in_len--;
        sim_event("rx %llu %02x", (unsigned long long)sim_ns(link->avr, link->avr->cycle), byte);
        avr_raise_irq(link->uart_in, byte);
    }
    write_host(link);
    while (link->out_len > PTY_QUEUE / 2) { /* the host is not reading: wait for it */
        struct pollfd p = {link->master, POLLOUT, 0};
        poll(&p, 1, 100);
        write_host(link);
    }
}

void pty_link_drain(pty_link_t *link, int timeout_ms)
{
    for (int waited = 0; link->out_len && waited < timeout_ms; waited += 10) {
        write_host(link);
        if (link->out_len) {
            struct pollfd p = {link->master, POLLOUT, 0};
            poll(&p, 1, 10);
        }
    }
}

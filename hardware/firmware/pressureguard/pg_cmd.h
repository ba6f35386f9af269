/* The host's commands (HAPTIC, LOCAL_LIMIT, HELLO; PROTOCOL.md §3) and the serial receiver that
 * cuts the COBS byte stream into bodies. Portable C99, no Arduino dependency. */
#ifndef PG_CMD_H
#define PG_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "pg_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* HAPTIC patterns; values above 2 are reserved and act as 2. */
enum { PG_HAPTIC_OFF = 0, PG_HAPTIC_CAUTION = 1, PG_HAPTIC_CONTINUOUS = 2 };

typedef struct {
    uint8_t type;          /* PG_HAPTIC, PG_LOCAL_LIMIT or PG_HELLO */
    uint16_t seq;
    uint32_t t_us;
    uint8_t pattern;       /* HAPTIC */
    int32_t raw_threshold; /* LOCAL_LIMIT */
    int8_t direction;      /* LOCAL_LIMIT: +1, -1 or 0 */
} pg_cmd_t;

/* Check and decode one body (a BLE write, or a frame the receiver cut out).
 * PG_FAULT_TYPE: a tool → host type or an unknown one; PG_FAULT_LENGTH: the wrong size for its
 * type; PG_FAULT_INVALID: a LOCAL_LIMIT direction outside -1…+1 (the old limit stays). */
pg_fault_t pg_cmd_parse(const uint8_t *body, size_t len, pg_cmd_t *out);

/* Serial receiver: collects the bytes of one frame up to its 0x00 and decodes it in place. */
typedef struct {
    uint8_t *buf;
    uint16_t cap;
    uint16_t len;
    uint8_t overflow; /* the frame being collected was longer than cap: it is dropped */
} pg_rx_t;

void pg_rx_init(pg_rx_t *rx, uint8_t *buf, uint16_t cap);

/* Feed one byte. Returns PG_RX_NONE until a delimiter ends a frame, then the body's length
 * (the body is at rx->buf), PG_RX_EMPTY for an empty frame (extra 0x00 bytes are harmless),
 * or a negative fault: -PG_FAULT_COBS or -PG_FAULT_LENGTH (longer than cap). */
#define PG_RX_NONE 0
#define PG_RX_EMPTY (-100)
int pg_rx_push(pg_rx_t *rx, uint8_t byte);

#ifdef __cplusplus
}
#endif
#endif

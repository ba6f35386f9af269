/* Parsing the host's commands, and cutting the serial stream into frames. */
#include "pg_cmd.h"

#include "pg_cobs.h"

pg_fault_t pg_cmd_parse(const uint8_t *body, size_t len, pg_cmd_t *out)
{
    pg_fault_t fault = pg_body_check(body, len);
    if (fault != PG_OK) {
        return fault;
    }
    uint8_t type = body[1];
    size_t want;
    switch (type) {
    case PG_HAPTIC:
        want = PG_HAPTIC_BODY;
        break;
    case PG_LOCAL_LIMIT:
        want = PG_LOCAL_LIMIT_BODY;
        break;
    case PG_HELLO:
        want = PG_HELLO_BODY;
        break;
    default:
        return PG_FAULT_TYPE;
    }
    if (len != want) {
        return PG_FAULT_LENGTH;
    }
    const uint8_t *p = body + PG_HEADER_SIZE;
    pg_cmd_t cmd = {0};
    cmd.type = type;
    cmd.seq = pg_get_u16(body + 2);
    cmd.t_us = pg_get_u32(body + 4);
    if (type == PG_HAPTIC) {
        cmd.pattern = p[0];
    } else if (type == PG_LOCAL_LIMIT) {
        cmd.raw_threshold = (int32_t)pg_get_u32(p);
        cmd.direction = (int8_t)p[4];
        if (cmd.direction < -1 || cmd.direction > 1) {
            return PG_FAULT_INVALID;
        }
    }
    *out = cmd;
    return PG_OK;
}

void pg_rx_init(pg_rx_t *rx, uint8_t *buf, uint16_t cap)
{
    rx->buf = buf;
    rx->cap = cap;
    rx->len = 0;
    rx->overflow = 0;
}

int pg_rx_push(pg_rx_t *rx, uint8_t byte)
{
    if (byte != 0) {
        if (rx->len < rx->cap) {
            rx->buf[rx->len++] = byte;
        } else {
            rx->overflow = 1;
        }
        return PG_RX_NONE;
    }
    uint16_t len = rx->len;
    uint8_t overflow = rx->overflow;
    rx->len = 0;
    rx->overflow = 0;
    if (overflow) {
        return -(int)PG_FAULT_LENGTH;
    }
    if (len == 0) {
        return PG_RX_EMPTY;
    }
    int n = pg_cobs_decode(rx->buf, len, rx->buf, rx->cap);
    if (n < 0) {
        return -(int)PG_FAULT_COBS;
    }
    if (n == 0) {
        return -(int)PG_FAULT_LENGTH;
    }
    return n;
}

/* COBS encoder (streaming and into a buffer) and in-place decoder. */
#include "pg_cobs.h"

size_t pg_cobs_write(const uint8_t *src, size_t len, pg_put_fn put, void *ctx)
{
    size_t out = 0;
    size_t i = 0;
    for (;;) {
        /* One block: a code byte, then up to 254 non-zero bytes. */
        size_t run = 0;
        while (i + run < len && src[i + run] != 0 && run < 254) {
            run++;
        }
        put(ctx, (uint8_t)(run + 1));
        for (size_t k = 0; k < run; k++) {
            put(ctx, src[i + k]);
        }
        out += run + 1;
        i += run;
        if (i >= len) {
            break; /* the end of the input (also right after a full block) */
        }
        if (run < 254) {
            i++; /* the zero this block's code stands for; a full block stands for none */
        }
    }
    return out;
}

typedef struct {
    uint8_t *dst;
    size_t cap;
    size_t len;
} pg_cobs_buf_t;

static void pg_cobs_put_buf(void *ctx, uint8_t byte)
{
    pg_cobs_buf_t *b = (pg_cobs_buf_t *)ctx;
    if (b->len < b->cap) {
        b->dst[b->len] = byte;
    }
    b->len++;
}

size_t pg_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    if (cap < PG_COBS_MAX(len)) {
        return 0;
    }
    pg_cobs_buf_t b = {dst, cap, 0};
    return pg_cobs_write(src, len, pg_cobs_put_buf, &b);
}

int pg_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap)
{
    size_t in = 0;
    size_t out = 0;
    while (in < len) {
        uint8_t code = src[in++];
        if (code == 0 || in + (size_t)(code - 1) > len) {
            return PG_COBS_BAD;
        }
        for (uint8_t i = 1; i < code; i++) {
            uint8_t byte = src[in++];
            if (byte == 0) {
                return PG_COBS_BAD;
            }
            if (out >= cap) {
                return PG_COBS_TOO_LONG;
            }
            dst[out++] = byte;
        }
        if (code != 0xFF && in < len) {
            if (out >= cap) {
                return PG_COBS_TOO_LONG;
            }
            dst[out++] = 0;
        }
    }
    return (int)out;
}

/* COBS (Consistent Overhead Byte Stuffing) for the serial link: a body is sent as
 * COBS(body) followed by one 0x00 (PROTOCOL.md §1). Portable C99, no Arduino dependency. */
#ifndef PG_COBS_H
#define PG_COBS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where encoded bytes go, one at a time (a UART, or a buffer). */
typedef void (*pg_put_fn)(void *ctx, uint8_t byte);

/* Encode len bytes and hand them to put, without the 0x00 delimiter. Needs no buffer, so the
 * firmware can write a 241-byte INFO straight to the UART. Returns the number of bytes put. */
size_t pg_cobs_write(const uint8_t *src, size_t len, pg_put_fn put, void *ctx);

/* Encode into dst (no delimiter). Returns the encoded length, or 0 when cap is too small. */
size_t pg_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap);

/* Largest encoding of len bytes: one code byte per started 254 bytes, plus one. */
#define PG_COBS_MAX(len) ((len) + (len) / 254u + 1u)

/* Decode one frame (the bytes between delimiters, without them). dst may equal src: decoding
 * in place is safe, as the output never runs ahead of the input.
 * Returns the decoded length, PG_COBS_BAD for a malformed frame (a zero code byte, or a code
 * that runs past the end), or PG_COBS_TOO_LONG when the result would not fit in cap. */
#define PG_COBS_BAD (-1)
#define PG_COBS_TOO_LONG (-2)
int pg_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap);

#ifdef __cplusplus
}
#endif
#endif

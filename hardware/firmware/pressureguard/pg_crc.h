/* CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor (PROTOCOL.md §2).
 * Portable C99, no Arduino dependency: the same file builds for the AVR, the ESP32 and the host tests. */
#ifndef PG_CRC_H
#define PG_CRC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PG_CRC_INIT 0xFFFFu

/* Fold one more byte into a running CRC (start from PG_CRC_INIT). */
uint16_t pg_crc16_update(uint16_t crc, uint8_t byte);

/* The CRC of a whole buffer; "123456789" gives 0x29B1. */
uint16_t pg_crc16(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif

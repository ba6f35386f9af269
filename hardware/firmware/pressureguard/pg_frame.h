/* Wire protocol v1 bodies (hardware/PROTOCOL.md §2–3): header(8) ‖ payload ‖ crc(2), little-endian.
 * Builders for what the tool sends, and the checks every received body goes through.
 * Portable C99, no Arduino dependency. */
#ifndef PG_FRAME_H
#define PG_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PG_VERSION 1u
#define PG_HEADER_SIZE 8u
#define PG_CRC_SIZE 2u
#define PG_MIN_BODY (PG_HEADER_SIZE + PG_CRC_SIZE)
#define PG_MAX_SAMPLES 32u
#define PG_SAMPLES_BODY(n) (13u + 4u * (n))
#define PG_MAX_INFO_JSON 231u
#define PG_MAX_BODY (PG_HEADER_SIZE + PG_MAX_INFO_JSON + PG_CRC_SIZE) /* 241: the largest INFO */
#define PG_BUTTON_BODY 11u
#define PG_STATUS_BODY 13u
#define PG_HAPTIC_BODY 11u
#define PG_LOCAL_LIMIT_BODY 15u
#define PG_HELLO_BODY 10u

/* Frame types; bit 7 set = host → tool. */
enum {
    PG_SAMPLES = 0x01,
    PG_INFO = 0x02,
    PG_BUTTON = 0x03,
    PG_STATUS = 0x04,
    PG_HAPTIC = 0x81,
    PG_LOCAL_LIMIT = 0x82,
    PG_HELLO = 0x83
};

/* STATUS flags. */
#define PG_FLAG_SATURATED 0x01u
#define PG_FLAG_ADC_FAULT 0x02u

/* The HX711's 24-bit rails, sign-extended: a reading pinned here is saturated. */
#define PG_ADC_MAX 8388607L
#define PG_ADC_MIN (-8388608L)

/* Why a received body was rejected: the same kinds the host's decoder counts (PROTOCOL.md §5). */
typedef enum {
    PG_OK = 0,
    PG_FAULT_COBS,
    PG_FAULT_LENGTH,
    PG_FAULT_CRC,
    PG_FAULT_VERSION,
    PG_FAULT_TYPE,
    PG_FAULT_INVALID
} pg_fault_t;

/* INFO keys. Strings are written as JSON strings; the optional numbers are given as their JSON
 * text ("2281.5"), or NULL to leave the key out. Optional keys that would push the JSON past
 * 231 bytes are left out, the last first. */
typedef struct {
    const char *device_id;
    const char *firmware;
    const char *adc;
    uint16_t rate_hz;
    const char *capacity_n;
    const char *counts_per_n;
    const char *offset_counts;
    const char *tip_area_cm2;
} pg_info_t;

/* Each builder writes one whole body into buf and returns its length, or 0 when it does not fit
 * in cap or the arguments are out of range. */
size_t pg_samples_body(uint8_t *buf, size_t cap, uint16_t seq, uint32_t t_us, uint16_t period_us,
                       const int32_t *raw, uint8_t n);
size_t pg_info_body(uint8_t *buf, size_t cap, uint16_t seq, uint32_t t_us, const pg_info_t *info);
size_t pg_button_body(uint8_t *buf, size_t cap, uint16_t seq, uint32_t t_us, bool pressed);
size_t pg_status_body(uint8_t *buf, size_t cap, uint16_t seq, uint32_t t_us, uint16_t battery_mv,
                      uint8_t flags);

/* Any body from a header, a payload and the CRC (the host's commands are built with it in tests). */
size_t pg_body(uint8_t *buf, size_t cap, uint8_t type, uint16_t seq, uint32_t t_us,
               const uint8_t *payload, size_t payload_len);

/* The INFO JSON alone (no NUL), for sizing; returns its length or 0 when even the required keys
 * do not fit in cap. */
size_t pg_info_json(char *buf, size_t cap, const pg_info_t *info);

/* The checks every body gets whatever its type: length 10–241, CRC, version. */
pg_fault_t pg_body_check(const uint8_t *body, size_t len);

/* Little-endian field access. */
uint16_t pg_get_u16(const uint8_t *p);
uint32_t pg_get_u32(const uint8_t *p);
void pg_put_u16(uint8_t *p, uint16_t v);
void pg_put_u32(uint8_t *p, uint32_t v);

#ifdef __cplusplus
}
#endif
#endif

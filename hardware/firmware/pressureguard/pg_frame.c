/* Building and checking protocol v1 bodies. */
#include "pg_frame.h"

#include <string.h>

#include "pg_crc.h"

uint16_t pg_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | ((uint16_t)p[1] << 8));
}

uint32_t pg_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void pg_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void pg_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Header at buf, payload already at buf + 8: add the CRC, return the body length. */
static size_t finish(uint8_t *buf, uint8_t type, uint16_t seq, uint32_t t_us, size_t payload_len)
{
    buf[0] = PG_VERSION;
    buf[1] = type;
    pg_put_u16(buf + 2, seq);
    pg_put_u32(buf + 4, t_us);
    size_t n = PG_HEADER_SIZE + payload_len;
    pg_put_u16(buf + n, pg_crc16(buf, n));
    return n + PG_CRC_SIZE;
}

size_t pg_body(uint8_t *buf, size_t cap, uint8_t type, uint16_t seq, uint32_t t_us,
               const uint8_t *payload, size_t payload_len)
{
    if (payload_len > PG_MAX_BODY - PG_MIN_BODY || cap < PG_MIN_BODY + payload_len) {
        return 0;
    }
    if (payload_len) {
        memmove(buf + PG_HEADER_SIZE, payload, payload_len);
    }
    return finish(buf, type, seq, t_us, payload_len);
}

size_t pg_samples_body(uint8_t *buf, size_t cap, uint16_t seq, uint32_t t_us, uint16_t period_us,
                       const int32_t *raw, uint8_t n)
{
    if (n < 1 || n > PG_MAX_SAMPLES || cap < PG_SAMPLES_BODY(n)) {
        return 0;
    }
    uint8_t *p = buf + PG_HEADER_SIZE;
    pg_put_u16(p, period_us);
    p[2] = n;
    for (uint8_t i = 0; i < n; i++) {
        pg_put_u32(p + 3 + 4u * i, (uint32_t)raw[i]);
    }
    return finish(buf, PG_SAMPLES, seq, t_us, 3u + 4u * n);
}

size_t pg_button_body(uint8_t *buf, size_t cap, uint16_t seq, uint32_t t_us, bool pressed)
{
    if (cap < PG_BUTTON_BODY) {
        return 0;
    }
    buf[PG_HEADER_SIZE] = pressed ? 1u : 0u;
    return finish(buf, PG_BUTTON, seq, t_us, 1);
}

size_t pg_status_body(uint8_t *buf, size_t cap, uint16_t seq, uint32_t t_us, uint16_t battery_mv,
                      uint8_t flags)
{
    if (cap < PG_STATUS_BODY) {
        return 0;
    }
    pg_put_u16(buf + PG_HEADER_SIZE, battery_mv);
    buf[PG_HEADER_SIZE + 2] = flags;
    return finish(buf, PG_STATUS, seq, t_us, 3);
}

/* A small JSON writer that never writes past cap and remembers that it ran out of room. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    bool full;
} json_t;

static void put_char(json_t *j, char c)
{
    if (j->len < j->cap) {
        j->buf[j->len++] = c;
    } else {
        j->full = true;
    }
}

static void put_text(json_t *j, const char *s)
{
    while (*s) {
        put_char(j, *s++);
    }
}

static void put_string(json_t *j, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put_char(j, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            put_char(j, '\\');
            put_char(j, (char)c);
        } else if (c < 0x20) {
            put_text(j, "\\u00");
            put_char(j, hex[c >> 4]);
            put_char(j, hex[c & 0xF]);
        } else {
            put_char(j, (char)c);
        }
    }
    put_char(j, '"');
}

/* Every key after the first (device_id opens the object). */
static void put_key(json_t *j, const char *key)
{
    put_char(j, ',');
    put_string(j, key);
    put_char(j, ':');
}

static void put_uint(json_t *j, uint16_t v)
{
    char digits[6];
    uint8_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n) {
        put_char(j, digits[--n]);
    }
}

/* Writes the JSON with the first `optional` optional keys that are set. */
static size_t write_info(char *buf, size_t cap, const pg_info_t *info, uint8_t optional)
{
    json_t j = {buf, cap, 0, false};
    put_char(&j, '{');
    put_string(&j, "device_id");
    put_char(&j, ':');
    put_string(&j, info->device_id);
    put_key(&j, "firmware");
    put_string(&j, info->firmware);
    put_key(&j, "adc");
    put_string(&j, info->adc);
    put_key(&j, "rate_hz");
    put_uint(&j, info->rate_hz);
    const char *keys[4] = {"capacity_n", "counts_per_n", "offset_counts", "tip_area_cm2"};
    const char *values[4] = {info->capacity_n, info->counts_per_n, info->offset_counts,
                             info->tip_area_cm2};
    for (uint8_t k = 0; k < 4 && k < optional; k++) {
        if (values[k]) {
            put_key(&j, keys[k]);
            put_text(&j, values[k]);
        }
    }
    put_char(&j, '}');
    return j.full ? 0 : j.len;
}

size_t pg_info_json(char *buf, size_t cap, const pg_info_t *info)
{
    if (cap > PG_MAX_INFO_JSON) {
        cap = PG_MAX_INFO_JSON;
    }
    for (int optional = 4; optional >= 0; optional--) {
        size_t n = write_info(buf, cap, info, (uint8_t)optional);
        if (n) {
            return n;
        }
    }
    return 0;
}

size_t pg_info_body(uint8_t *buf, size_t cap, uint16_t seq, uint32_t t_us, const pg_info_t *info)
{
    if (cap < PG_MIN_BODY + 2) {
        return 0;
    }
    size_t n = pg_info_json((char *)buf + PG_HEADER_SIZE, cap - PG_MIN_BODY, info);
    if (!n) {
        return 0;
    }
    return finish(buf, PG_INFO, seq, t_us, n);
}

pg_fault_t pg_body_check(const uint8_t *body, size_t len)
{
    if (len < PG_MIN_BODY || len > PG_MAX_BODY) {
        return PG_FAULT_LENGTH;
    }
    if (pg_get_u16(body + len - 2) != pg_crc16(body, len - 2)) {
        return PG_FAULT_CRC;
    }
    if (body[0] != PG_VERSION) {
        return PG_FAULT_VERSION;
    }
    return PG_OK;
}

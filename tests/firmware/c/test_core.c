/* The firmware's protocol core against the project's test vectors (tests/protocol/vectors.json,
 * the same file the Python decoder is tested with), plus COBS and receiver edge cases.
 * Built with AddressSanitizer and UBSan; run: test_core VECTORS.txt (see vectors_flat.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_cmd.h"
#include "pg_cobs.h"
#include "pg_crc.h"
#include "pg_frame.h"
#include "vectors.h"

int run_tool_tests(void);

static vector_t vectors[64];
static int nvectors;

static long field(const vector_t *v, int i)
{
    return strtol(v->field[i], NULL, 10);
}

static const char *opt(const vector_t *v, int i)
{
    return strcmp(v->field[i], "-") ? v->field[i] : NULL;
}

static pg_fault_t fault_named(const char *name)
{
    static const char *names[] = {"ok", "cobs", "length", "crc", "version", "type", "invalid"};
    for (int i = 0; i < 7; i++) {
        if (!strcmp(names[i], name)) {
            return (pg_fault_t)i;
        }
    }
    fail_msg("unknown fault %s", name);
    return PG_OK;
}

/* Feed a serial stream through the receiver; collect the bodies or the faults it produces. */
typedef struct {
    uint8_t bodies[8][PG_MAX_BODY + 8];
    size_t len[8];
    int fault[8]; /* 0, or the pg_fault_t */
    int n;
} rx_result_t;

static void receive(const v_bytes_t *serial, uint16_t cap, rx_result_t *r)
{
    static uint8_t buf[300];
    pg_rx_t rx;
    pg_rx_init(&rx, buf, cap);
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < serial->len && r->n < 8; i++) {
        int got = pg_rx_push(&rx, serial->data[i]);
        if (got == PG_RX_NONE || got == PG_RX_EMPTY) {
            continue;
        }
        if (got < 0) {
            r->fault[r->n++] = -got;
        } else {
            memcpy(r->bodies[r->n], rx.buf, (size_t)got);
            r->len[r->n++] = (size_t)got;
        }
    }
}

static size_t build(const vector_t *v, uint8_t *out, size_t cap)
{
    uint16_t seq = (uint16_t)field(v, 0);
    uint32_t t_us = (uint32_t)field(v, 1);
    if (!strcmp(v->type, "SAMPLES")) {
        int32_t raw[PG_MAX_SAMPLES];
        int n = (int)field(v, 3);
        for (int i = 0; i < n; i++) {
            raw[i] = (int32_t)field(v, 4 + i);
        }
        return pg_samples_body(out, cap, seq, t_us, (uint16_t)field(v, 2), raw, (uint8_t)n);
    }
    if (!strcmp(v->type, "INFO")) {
        pg_info_t info = {v->field[2], v->field[3], v->field[4], (uint16_t)field(v, 5),
                          opt(v, 6),   opt(v, 7),   opt(v, 8),   opt(v, 9)};
        return pg_info_body(out, cap, seq, t_us, &info);
    }
    if (!strcmp(v->type, "BUTTON")) {
        return pg_button_body(out, cap, seq, t_us, field(v, 2) != 0);
    }
    if (!strcmp(v->type, "STATUS")) {
        return pg_status_body(out, cap, seq, t_us, (uint16_t)field(v, 2), (uint8_t)field(v, 3));
    }
    uint8_t payload[8];
    size_t len = 0;
    uint8_t type = PG_HELLO;
    if (!strcmp(v->type, "HAPTIC")) {
        type = PG_HAPTIC;
        payload[len++] = (uint8_t)field(v, 2);
    } else if (!strcmp(v->type, "LOCAL_LIMIT")) {
        type = PG_LOCAL_LIMIT;
        pg_put_u32(payload, (uint32_t)(int32_t)field(v, 2));
        payload[4] = (uint8_t)(int8_t)field(v, 3);
        len = 5;
    }
    return pg_body(out, cap, type, seq, t_us, payload, len);
}

static void test_crc_check_value(void **state)
{
    (void)state;
    int checked = 0;
    for (int i = 0; i < nvectors; i++) {
        if (!strcmp(vectors[i].kind, "crc")) {
            assert_int_equal(pg_crc16(vectors[i].body.data, vectors[i].body.len),
                             strtol(vectors[i].type, NULL, 16));
            checked++;
        }
    }
    assert_int_equal(checked, 1);
    assert_int_equal(pg_crc16((const uint8_t *)"123456789", 9), 0x29B1);
}

/* Every frame vector: the core builds the body byte for byte, and its COBS the serial form. */
static void test_frames_build_byte_identical(void **state)
{
    (void)state;
    int checked = 0;
    for (int i = 0; i < nvectors; i++) {
        const vector_t *v = &vectors[i];
        if (strcmp(v->kind, "frame")) {
            continue;
        }
        uint8_t body[PG_MAX_BODY];
        size_t len = build(v, body, sizeof body);
        if (len != v->body.len || memcmp(body, v->body.data, len)) {
            fail_msg("%s: built %zu bytes, vector has %zu", v->name, len, v->body.len);
        }
        uint8_t serial[PG_COBS_MAX(PG_MAX_BODY) + 1];
        size_t n = pg_cobs_encode(body, len, serial, sizeof serial);
        serial[n++] = 0;
        if (n != v->serial.len || memcmp(serial, v->serial.data, n)) {
            fail_msg("%s: serial form differs", v->name);
        }
        checked++;
    }
    assert_int_equal(checked, 13);
}

/* The host's commands: parsed from the body (BLE) and from the serial form (COBS receiver). */
static void test_commands_parse_from_body_and_serial(void **state)
{
    (void)state;
    int checked = 0;
    for (int i = 0; i < nvectors; i++) {
        const vector_t *v = &vectors[i];
        if (strcmp(v->kind, "frame") || v->body.data[1] < 0x80) {
            continue;
        }
        rx_result_t r;
        receive(&v->serial, 32, &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.fault[0], 0);
        assert_memory_equal(r.bodies[0], v->body.data, v->body.len);
        pg_cmd_t cmd;
        assert_int_equal(pg_cmd_parse(r.bodies[0], r.len[0], &cmd), PG_OK);
        assert_int_equal(cmd.type, v->body.data[1]);
        assert_int_equal(cmd.seq, field(v, 0));
        assert_int_equal(cmd.t_us, field(v, 1));
        if (cmd.type == PG_HAPTIC) {
            assert_int_equal(cmd.pattern, field(v, 2));
        } else if (cmd.type == PG_LOCAL_LIMIT) {
            assert_int_equal(cmd.raw_threshold, field(v, 2));
            assert_int_equal(cmd.direction, field(v, 3));
        }
        checked++;
    }
    assert_int_equal(checked, 5);
}

/* The tool's own frames are not commands: a tool that hears one (an echo) ignores it. */
static void test_tool_frames_are_not_commands(void **state)
{
    (void)state;
    for (int i = 0; i < nvectors; i++) {
        const vector_t *v = &vectors[i];
        if (!strcmp(v->kind, "frame") && v->body.data[1] < 0x80) {
            pg_cmd_t cmd;
            assert_int_equal(pg_cmd_parse(v->body.data, v->body.len, &cmd), PG_FAULT_TYPE);
        }
    }
}

/* Streams: the receiver cuts out exactly the listed bodies, each intact. */
static void test_streams_deframe_to_the_listed_bodies(void **state)
{
    (void)state;
    int checked = 0;
    for (int i = 0; i < nvectors; i++) {
        const vector_t *v = &vectors[i];
        if (strcmp(v->kind, "stream")) {
            continue;
        }
        rx_result_t r;
        receive(&v->serial, 256, &r);
        assert_int_equal(r.n, v->nbodies);
        for (int b = 0; b < r.n; b++) {
            assert_int_equal(r.fault[b], 0);
            assert_int_equal(r.len[b], v->bodies[b].len);
            assert_memory_equal(r.bodies[b], v->bodies[b].data, r.len[b]);
            assert_int_equal(pg_body_check(r.bodies[b], r.len[b]), PG_OK);
        }
        checked++;
    }
    assert_int_equal(checked, 5);
}

/* Bad frames are rejected with the fault the host counts for them. */
static void test_negative_vectors_are_rejected(void **state)
{
    (void)state;
    int checked = 0;
    for (int i = 0; i < nvectors; i++) {
        const vector_t *v = &vectors[i];
        if (strcmp(v->kind, "negative")) {
            continue;
        }
        rx_result_t r;
        receive(&v->serial, 256, &r);
        assert_int_equal(r.n, 1);
        int got = r.fault[0];
        if (!got) {
            pg_cmd_t cmd;
            got = (int)pg_cmd_parse(r.bodies[0], r.len[0], &cmd);
        }
        if (got != (int)fault_named(v->type)) {
            fail_msg("%s: fault %d, expected %s", v->name, got, v->type);
        }
        checked++;
    }
    assert_int_equal(checked, 8);
}

static void test_cobs_edges(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        int zero_at; /* -1: no zero */
        size_t encoded;
    } cases[] = {{0, -1, 1}, {1, 0, 2}, {253, -1, 254}, {254, -1, 255}, {255, -1, 257},
                 {254, 253, 255}, {255, 254, 257}, {508, -1, 510}, {300, 0, 302}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint8_t src[600], enc[620], dec[600];
        for (size_t i = 0; i < cases[c].len; i++) {
            src[i] = (uint8_t)(1 + i % 255);
        }
        if (cases[c].zero_at >= 0) {
            src[cases[c].zero_at] = 0;
        }
        size_t n = pg_cobs_encode(src, cases[c].len, enc, sizeof enc);
        assert_int_equal(n, cases[c].encoded);
        assert_null(memchr(enc, 0, n));
        assert_int_equal(pg_cobs_decode(enc, n, dec, sizeof dec), (int)cases[c].len);
        assert_memory_equal(dec, src, cases[c].len);
        /* in place, as the receiver does it */
        assert_int_equal(pg_cobs_decode(enc, n, enc, sizeof enc), (int)cases[c].len);
        assert_memory_equal(enc, src, cases[c].len);
    }
    uint8_t small[4];
    assert_int_equal(pg_cobs_encode((const uint8_t *)"abcdef", 6, small, sizeof small), 0);
    assert_int_equal(pg_cobs_decode((const uint8_t *)"\x05\x01\x02", 3, small, 4), PG_COBS_BAD);
    assert_int_equal(pg_cobs_decode((const uint8_t *)"\x04\x01\x02\x03\x02\x09", 6, small, 3),
                     PG_COBS_TOO_LONG);
}

static void test_receiver_drops_overlong_frames_and_resyncs(void **state)
{
    (void)state;
    uint8_t buf[32];
    pg_rx_t rx;
    pg_rx_init(&rx, buf, sizeof buf);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(pg_rx_push(&rx, 0x55), PG_RX_NONE);
    }
    assert_int_equal(pg_rx_push(&rx, 0), -(int)PG_FAULT_LENGTH);
    assert_int_equal(pg_rx_push(&rx, 0), PG_RX_EMPTY);
    /* the next frame after the garbage is decoded normally: HELLO seq 4 */
    static const uint8_t hello[] = {0x04, 0x01, 0x83, 0x04, 0x04, 0xc0, 0x65, 0x52, 0x03, 0xd5, 0xa8, 0x00};
    int got = 0;
    for (size_t i = 0; i < sizeof hello; i++) {
        got = pg_rx_push(&rx, hello[i]);
    }
    assert_int_equal(got, 10);
    pg_cmd_t cmd;
    assert_int_equal(pg_cmd_parse(rx.buf, 10, &cmd), PG_OK);
    assert_int_equal(cmd.type, PG_HELLO);
}

static void test_local_limit_with_a_bad_direction_is_invalid(void **state)
{
    (void)state;
    uint8_t payload[5] = {1, 0, 0, 0, 2};
    uint8_t body[PG_LOCAL_LIMIT_BODY];
    size_t len = pg_body(body, sizeof body, PG_LOCAL_LIMIT, 1, 0, payload, sizeof payload);
    pg_cmd_t cmd;
    assert_int_equal(pg_cmd_parse(body, len, &cmd), PG_FAULT_INVALID);
    assert_int_equal(pg_cmd_parse(body, len - 1, &cmd), PG_FAULT_CRC);
    uint8_t hello_long[PG_HELLO_BODY + 1];
    len = pg_body(hello_long, sizeof hello_long, PG_HELLO, 1, 0, payload, 1);
    assert_int_equal(pg_cmd_parse(hello_long, len, &cmd), PG_FAULT_LENGTH);
}

static void test_info_leaves_out_optional_keys_that_do_not_fit(void **state)
{
    (void)state;
    char long_id[151];
    memset(long_id, 'A', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    pg_info_t info = {long_id, "1.0.0", "HX711", 80, "196", "2281.5", "-84211", "1.0"};
    char json[PG_MAX_INFO_JSON];
    size_t n = pg_info_json(json, sizeof json, &info);
    assert_true(n > 0 && n <= PG_MAX_INFO_JSON);
    assert_non_null(strstr(json, "\"rate_hz\":80"));
    json[n] = '\0';
    assert_non_null(strstr(json, "\"capacity_n\":196}"));
    assert_null(strstr(json, "counts_per_n")); /* the last optional keys went first */
    info.device_id = "PG-\"quoted\"";
    n = pg_info_json(json, sizeof json - 1, &info);
    json[n] = '\0';
    assert_non_null(strstr(json, "\"PG-\\\"quoted\\\"\""));
    char huge[300];
    memset(huge, 'C', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    info.device_id = huge;
    assert_int_equal(pg_info_json(json, sizeof json, &info), 0); /* even required keys do not fit */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s VECTORS.txt\n", argv[0]);
        return 2;
    }
    nvectors = vectors_load(argv[1], vectors, (int)(sizeof vectors / sizeof vectors[0]));
    if (nvectors <= 0) {
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_check_value),
        cmocka_unit_test(test_frames_build_byte_identical),
        cmocka_unit_test(test_commands_parse_from_body_and_serial),
        cmocka_unit_test(test_tool_frames_are_not_commands),
        cmocka_unit_test(test_streams_deframe_to_the_listed_bodies),
        cmocka_unit_test(test_negative_vectors_are_rejected),
        cmocka_unit_test(test_cobs_edges),
        cmocka_unit_test(test_receiver_drops_overlong_frames_and_resyncs),
        cmocka_unit_test(test_local_limit_with_a_bad_direction_is_invalid),
        cmocka_unit_test(test_info_leaves_out_optional_keys_that_do_not_fit),
    };
    int failed = cmocka_run_group_tests_name("protocol core", tests, NULL, NULL);
    return failed + run_tool_tests();
}

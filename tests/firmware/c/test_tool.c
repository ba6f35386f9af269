/* The tool's behaviour (pg_tool, pg_alert, pg_button) on the host: batching and timing of
 * SAMPLES, seq, INFO on start and HELLO, STATUS flags, HAPTIC patterns, LOCAL_LIMIT, debouncing. */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg_tool.h"

typedef struct {
    uint8_t body[PG_MAX_BODY];
    uint16_t len;
} frame_t;

static frame_t frames[256];
static int nframes;
static char order[512]; /* 'F' a frame went out, 'O' the outputs were set */
static int norder;
static bool motor, buzzer;
static pg_tool_t tool;

static void emit(void *ctx, const uint8_t *body, uint16_t len)
{
    (void)ctx;
    if (nframes < 256) {
        memcpy(frames[nframes].body, body, len);
        frames[nframes++].len = len;
    }
    order[norder++ % 511] = 'F';
}

static void output(void *ctx, bool m, bool b)
{
    (void)ctx;
    motor = m;
    buzzer = b;
    order[norder++ % 511] = 'O';
}

static int setup(void **state)
{
    (void)state;
    nframes = norder = 0;
    memset(order, 0, sizeof order);
    pg_info_t info = {"PG-00ABCD", "1.0.0", "HX711", 80, "196", NULL, NULL, NULL};
    pg_tool_init(&tool, &info, emit, output, NULL);
    pg_tool_start(&tool, 1000);
    return 0;
}

static int count(uint8_t type)
{
    int n = 0;
    for (int i = 0; i < nframes; i++) {
        n += frames[i].body[1] == type;
    }
    return n;
}

static const frame_t *last(uint8_t type)
{
    for (int i = nframes - 1; i >= 0; i--) {
        if (frames[i].body[1] == type) {
            return &frames[i];
        }
    }
    fail_msg("no frame of type %02x", type);
    return NULL;
}

static uint16_t seq_of(const frame_t *f)
{
    return pg_get_u16(f->body + 2);
}

/* Samples at 80 SPS from t0, raw = base + i. */
static uint32_t feed(uint32_t t0, int n, int32_t base)
{
    for (int i = 0; i < n; i++) {
        uint32_t t = t0 + (uint32_t)i * 12500u;
        pg_tool_sample(&tool, t, base + i);
        pg_tool_poll(&tool, t + 200);
    }
    return t0 + (uint32_t)n * 12500u;
}

static void test_start_sends_info_seq0_then_status(void **state)
{
    (void)state;
    assert_int_equal(nframes, 2);
    assert_int_equal(frames[0].body[1], PG_INFO);
    assert_int_equal(seq_of(&frames[0]), 0);
    const char *json = "{\"device_id\":\"PG-00ABCD\",\"firmware\":\"1.0.0\",\"adc\":\"HX711\","
                       "\"rate_hz\":80,\"capacity_n\":196}";
    assert_int_equal(frames[0].len, PG_MIN_BODY + strlen(json));
    assert_memory_equal(frames[0].body + 8, json, strlen(json));
    assert_int_equal(frames[1].body[1], PG_STATUS);
    assert_int_equal(seq_of(&frames[1]), 1);
    assert_false(motor);
}

static void test_samples_go_out_four_at_a_time_timed_by_the_first(void **state)
{
    (void)state;
    feed(50000, 8, 100);
    assert_int_equal(count(PG_SAMPLES), 2);
    const frame_t *f = &frames[2];
    assert_int_equal(f->len, PG_SAMPLES_BODY(4));
    assert_int_equal(pg_get_u32(f->body + 4), 50000);
    assert_int_equal(pg_get_u16(f->body + 8), 12500);
    assert_int_equal(f->body[10], 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal((int32_t)pg_get_u32(f->body + 11 + 4 * i), 100 + i);
    }
    assert_int_equal(pg_get_u32(frames[3].body + 4), 100000);
    assert_int_equal(seq_of(&frames[3]), 3);
}

static void test_a_missed_conversion_starts_a_new_frame(void **state)
{
    (void)state;
    pg_tool_sample(&tool, 50000, 1);
    pg_tool_sample(&tool, 62500, 2);
    pg_tool_sample(&tool, 87500, 3); /* one conversion lost */
    assert_int_equal(count(PG_SAMPLES), 1);
    assert_int_equal(last(PG_SAMPLES)->body[10], 2);
    feed(100000, 3, 4);
    assert_int_equal(pg_get_u32(last(PG_SAMPLES)->body + 4), 87500);
}

static void test_a_module_at_10_sps_sends_single_samples_and_says_so(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        pg_tool_sample(&tool, 100000u + 100000u * (uint32_t)i, i);
        pg_tool_poll(&tool, 100500u + 100000u * (uint32_t)i);
    }
    assert_int_equal(count(PG_SAMPLES), 3);
    for (int i = 2; i < nframes; i++) {
        if (frames[i].body[1] == PG_SAMPLES) {
            assert_int_equal(frames[i].body[10], 1);
            assert_int_equal(pg_get_u16(frames[i].body + 8), 0); /* period unknown */
        }
    }
    assert_int_equal(count(PG_INFO), 2);
    assert_non_null(memmem(last(PG_INFO)->body, last(PG_INFO)->len, "\"rate_hz\":10", 12));
    assert_int_equal(count(PG_STATUS), 1); /* 100 ms between conversions is no ADC fault here */
}

static void test_hello_answers_info_with_the_current_seq(void **state)
{
    (void)state;
    feed(50000, 8, 0);
    uint8_t hello[PG_HELLO_BODY];
    pg_body(hello, sizeof hello, PG_HELLO, 9, 0, NULL, 0);
    assert_int_equal(pg_tool_command(&tool, 160000, hello, sizeof hello), PG_OK);
    pg_tool_poll(&tool, 160100);
    const frame_t *info = last(PG_INFO);
    assert_int_equal(seq_of(info), 4); /* INFO 0, STATUS 1, SAMPLES 2 and 3 */
}

static void test_seq_wraps(void **state)
{
    (void)state;
    tool.seq = 65535;
    feed(50000, 8, 0);
    assert_int_equal(seq_of(&frames[nframes - 2]), 65535);
    assert_int_equal(seq_of(&frames[nframes - 1]), 0);
}

static void limit(int32_t threshold, int8_t direction)
{
    uint8_t payload[5], body[PG_LOCAL_LIMIT_BODY];
    pg_put_u32(payload, (uint32_t)threshold);
    payload[4] = (uint8_t)direction;
    pg_body(body, sizeof body, PG_LOCAL_LIMIT, 1, 0, payload, 5);
    pg_tool_command(&tool, 0, body, sizeof body);
}

static void haptic(uint8_t pattern, uint32_t now)
{
    uint8_t body[PG_HAPTIC_BODY];
    pg_body(body, sizeof body, PG_HAPTIC, 1, 0, &pattern, 1);
    assert_int_equal(pg_tool_command(&tool, now, body, sizeof body), PG_OK);
}

/* The alert starts on the first sample at the threshold, before any frame goes out. */
static void test_local_limit_drives_the_motor_on_the_crossing_sample(void **state)
{
    (void)state;
    limit(5000, 1);
    feed(50000, 3, 4990);
    assert_false(motor);
    norder = 0;
    pg_tool_sample(&tool, 87500, 5000);
    assert_true(motor);
    assert_true(buzzer);
    assert_int_equal(order[0], 'O'); /* the pin was set first */
    /* below again: still on for 100 ms after the last sample at the limit, then off */
    uint32_t t = 87500;
    for (int i = 1; i <= 7; i++) {
        t += 12500;
        pg_tool_sample(&tool, t, 100);
        assert_true(motor); /* 12.5 … 87.5 ms after the last hit */
    }
    pg_tool_sample(&tool, t + 12500, 100); /* 100 ms */
    assert_false(motor);
    assert_false(buzzer);
}

static void test_local_limit_below_saturation_and_off(void **state)
{
    (void)state;
    limit(-250000, -1);
    pg_tool_sample(&tool, 50000, -249999);
    assert_false(motor);
    pg_tool_sample(&tool, 62500, -250000);
    assert_true(motor);
    limit(0, 0); /* off ends a running alert at once */
    assert_false(motor);
    limit(1000000, 1);
    pg_tool_sample(&tool, 75000, PG_ADC_MIN); /* pinned at the rail: never below the limit */
    assert_true(motor);
    limit(1000000, 5); /* invalid direction: ignored, the limit stays */
    pg_tool_link_lost(&tool, 80000); /* and it survives the host going away */
    assert_true(motor);
}

static void test_haptic_patterns(void **state)
{
    (void)state;
    haptic(2, 100000);
    assert_true(motor);
    assert_false(buzzer); /* the buzzer is the local backstop's */
    haptic(0, 110000);
    assert_false(motor);
    haptic(1, 200000);
    pg_tool_poll(&tool, 200000 + 199000);
    assert_true(motor);
    pg_tool_poll(&tool, 200000 + 201000);
    assert_false(motor);
    pg_tool_poll(&tool, 200000 + 999000);
    assert_false(motor);
    pg_tool_poll(&tool, 200000 + 1001000);
    assert_true(motor);
    haptic(9, 1300000); /* reserved: acts as continuous */
    pg_tool_poll(&tool, 1900000);
    assert_true(motor);
    pg_tool_link_lost(&tool, 1950000);
    assert_false(motor);
}

static void test_status_flags(void **state)
{
    (void)state;
    uint32_t t = feed(50000, 4, 0);
    int before = count(PG_STATUS);
    pg_tool_sample(&tool, t, PG_ADC_MAX);
    pg_tool_poll(&tool, t + 100);
    assert_int_equal(count(PG_STATUS), before + 1); /* at once on the new flag */
    assert_int_equal(last(PG_STATUS)->body[10], PG_FLAG_SATURATED);
    uint32_t saturated_status = pg_get_u32(last(PG_STATUS)->body + 4);
    t = feed(t + 12500, 90, 10); /* a little over a second of good samples */
    assert_int_equal(count(PG_STATUS), before + 2);
    assert_int_equal(last(PG_STATUS)->body[10], 0); /* cleared at the next periodic STATUS */
    assert_true(pg_get_u32(last(PG_STATUS)->body + 4) - saturated_status >= 1000000);
    /* no conversion for more than 3 periods: the ADC is not responding */
    uint32_t last_sample = t - 12500;
    int samples = count(PG_SAMPLES);
    pg_tool_sample(&tool, t, 42);
    last_sample = t;
    pg_tool_poll(&tool, last_sample + 37000);
    assert_false(last(PG_STATUS)->body[10] & PG_FLAG_ADC_FAULT);
    pg_tool_poll(&tool, last_sample + 38000);
    assert_int_equal(last(PG_STATUS)->body[10], PG_FLAG_ADC_FAULT);
    assert_int_equal(count(PG_SAMPLES), samples + 1); /* what was read before went out first */
    assert_int_equal(frames[nframes - 2].body[1], PG_SAMPLES);
    pg_tool_sample(&tool, last_sample + 200000, 43);
    assert_int_equal(last(PG_STATUS)->body[10], 0); /* back: said before its samples */
    assert_int_equal(frames[nframes - 1].body[1], PG_STATUS);
}

static void test_no_adc_at_all_is_a_fault_after_half_a_second(void **state)
{
    (void)state;
    pg_tool_poll(&tool, 1000 + 499000);
    assert_int_equal(count(PG_STATUS), 1);
    pg_tool_poll(&tool, 1000 + 501000);
    assert_int_equal(last(PG_STATUS)->body[10], PG_FLAG_ADC_FAULT);
}

static void test_button_is_debounced_and_dated_at_its_first_steady_edge(void **state)
{
    (void)state;
    bool bounce[] = {true, false, true, false, true};
    for (int i = 0; i < 5; i++) {
        pg_tool_button(&tool, 100000u + 1000u * (uint32_t)i, bounce[i]);
    }
    pg_tool_button(&tool, 123000, true);
    assert_int_equal(count(PG_BUTTON), 0);
    pg_tool_button(&tool, 124000, true);
    assert_int_equal(count(PG_BUTTON), 1);
    assert_int_equal(last(PG_BUTTON)->body[8], 1);
    assert_int_equal(pg_get_u32(last(PG_BUTTON)->body + 4), 104000);
    pg_tool_button(&tool, 300000, false);
    pg_tool_button(&tool, 320000, false);
    assert_int_equal(count(PG_BUTTON), 2);
    assert_int_equal(last(PG_BUTTON)->body[8], 0);
}

static void test_a_small_ble_mtu_shrinks_the_frames(void **state)
{
    (void)state;
    pg_tool_set_max_body(&tool, 20); /* MTU 23 */
    feed(50000, 2, 0);
    assert_int_equal(count(PG_SAMPLES), 2);
    assert_int_equal(last(PG_SAMPLES)->len, PG_SAMPLES_BODY(1));
    pg_tool_set_max_body(&tool, 27); /* MTU 30: 13 + 4·3 = 25 ≤ 27 */
    feed(75000, 3, 0);
    assert_int_equal(last(PG_SAMPLES)->body[10], 3);
}

int run_tool_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_start_sends_info_seq0_then_status, setup),
        cmocka_unit_test_setup(test_samples_go_out_four_at_a_time_timed_by_the_first, setup),
        cmocka_unit_test_setup(test_a_missed_conversion_starts_a_new_frame, setup),
        cmocka_unit_test_setup(test_a_module_at_10_sps_sends_single_samples_and_says_so, setup),
        cmocka_unit_test_setup(test_hello_answers_info_with_the_current_seq, setup),
        cmocka_unit_test_setup(test_seq_wraps, setup),
        cmocka_unit_test_setup(test_local_limit_drives_the_motor_on_the_crossing_sample, setup),
        cmocka_unit_test_setup(test_local_limit_below_saturation_and_off, setup),
        cmocka_unit_test_setup(test_haptic_patterns, setup),
        cmocka_unit_test_setup(test_status_flags, setup),
        cmocka_unit_test_setup(test_no_adc_at_all_is_a_fault_after_half_a_second, setup),
        cmocka_unit_test_setup(test_button_is_debounced_and_dated_at_its_first_steady_edge, setup),
        cmocka_unit_test_setup(test_a_small_ble_mtu_shrinks_the_frames, setup),
    };
    return cmocka_run_group_tests_name("tool behaviour", tests, NULL, NULL);
}

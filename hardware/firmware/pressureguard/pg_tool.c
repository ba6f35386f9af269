/* The tool's state machine: batching, seq, STATUS, INFO, commands, outputs. */
#include "pg_tool.h"

#include <string.h>

static void send(pg_tool_t *t, size_t len)
{
    if (len) {
        t->emit(t->ctx, t->body, (uint16_t)len);
        t->seq++;
    }
}

static void drive(pg_tool_t *t, uint32_t now_us)
{
    bool motor = pg_alert_motor(&t->alert, now_us);
    bool buzzer = pg_alert_buzzer(&t->alert);
    if (!t->outputs_known || motor != t->motor || buzzer != t->buzzer) {
        t->outputs_known = true;
        t->motor = motor;
        t->buzzer = buzzer;
        t->output(t->ctx, motor, buzzer);
    }
}

static void flush(pg_tool_t *t)
{
    if (!t->n) {
        return;
    }
    uint16_t period = t->rate_hz == 10 ? 0 : t->period_us;
    send(t, pg_samples_body(t->body, sizeof t->body, t->seq, t->batch_t_us, period, t->batch, t->n));
    t->n = 0;
}

static void send_info(pg_tool_t *t, uint32_t now_us)
{
    send(t, pg_info_body(t->body, sizeof t->body, t->seq, now_us, &t->info));
}

static void send_status(pg_tool_t *t, uint32_t now_us, uint8_t flags)
{
    send(t, pg_status_body(t->body, sizeof t->body, t->seq, now_us, t->battery_mv, flags));
    t->sent_flags = flags;
    t->saturated = false;
    t->status_us = now_us;
}

void pg_tool_init(pg_tool_t *t, const pg_info_t *info, pg_emit_fn emit, pg_output_fn output,
                  void *ctx)
{
    memset(t, 0, sizeof *t);
    t->emit = emit;
    t->output = output;
    t->ctx = ctx;
    t->info = *info;
    t->link_max_n = PG_MAX_SAMPLES;
    t->period_us = PG_PERIOD_80_US;
    pg_alert_init(&t->alert);
    pg_button_init(&t->button);
}

void pg_tool_start(pg_tool_t *t, uint32_t now_us)
{
    t->started_us = now_us;
    send_info(t, now_us);
    send_status(t, now_us, 0);
    drive(t, now_us);
}

static uint8_t batch_max(const pg_tool_t *t)
{
    if (t->rate_hz == 10) {
        return 1; /* 100 ms a sample: one per frame, period "unknown" (it does not fit 16 bits) */
    }
    return t->link_max_n < PG_BATCH ? t->link_max_n : (uint8_t)PG_BATCH;
}

void pg_tool_sample(pg_tool_t *t, uint32_t t_us, int32_t raw)
{
    bool saturated = raw >= PG_ADC_MAX || raw <= PG_ADC_MIN;
    pg_alert_sample(&t->alert, raw, saturated, t_us);
    drive(t, t_us); /* the motor first: a frame takes milliseconds to send */
    if (saturated) {
        t->saturated = true;
    }
    if (t->adc_fault) {
        t->adc_fault = false; /* the ADC is back: say so before its samples */
        send_status(t, t_us, t->saturated ? PG_FLAG_SATURATED : 0u);
    }
    if (t->have_sample) {
        uint32_t dt = t_us - t->last_sample_us;
        if (t->rate_hz == 0) {
            t->rate_hz = dt < 4u * PG_PERIOD_80_US ? 80 : 10;
            if (t->rate_hz != t->info.rate_hz) {
                t->info.rate_hz = t->rate_hz; /* a module left at 10 SPS: tell the host */
                t->info_due = true;
            }
        }
        bool on_time = dt >= PG_PERIOD_80_US / 2 && dt <= PG_PERIOD_80_US + PG_PERIOD_80_US / 2;
        if (t->rate_hz == 80 && on_time) {
            /* follow the ADC's own clock (its oscillator is not exactly 80 Hz) */
            t->period_us = (uint16_t)((7u * (uint32_t)t->period_us + dt + 4u) / 8u);
        }
        if (t->n && (t->rate_hz == 10 || !on_time)) {
            flush(t); /* a missed conversion: the next frame starts on the real clock */
        }
    }
    if (!t->n) {
        t->batch_t_us = t_us;
    }
    t->batch[t->n++] = raw;
    if (t->n >= batch_max(t)) {
        flush(t);
    }
    t->have_sample = true;
    t->last_sample_us = t_us;
}

void pg_tool_button(pg_tool_t *t, uint32_t now_us, bool pressed)
{
    uint32_t at_us;
    if (pg_button_update(&t->button, pressed, now_us, &at_us)) {
        send(t, pg_button_body(t->body, sizeof t->body, t->seq, at_us, t->button.stable));
    }
}

pg_fault_t pg_tool_command(pg_tool_t *t, uint32_t now_us, const uint8_t *body, uint16_t len)
{
    pg_cmd_t cmd;
    pg_fault_t fault = pg_cmd_parse(body, len, &cmd);
    if (fault != PG_OK) {
        return fault;
    }
    if (cmd.type == PG_HAPTIC) {
        pg_alert_haptic(&t->alert, cmd.pattern, now_us);
    } else if (cmd.type == PG_LOCAL_LIMIT) {
        pg_alert_limit(&t->alert, cmd.raw_threshold, cmd.direction);
    } else {
        t->info_due = true; /* HELLO: INFO with the current seq, never a reset one */
    }
    drive(t, now_us);
    return PG_OK;
}

void pg_tool_poll(pg_tool_t *t, uint32_t now_us)
{
    drive(t, now_us);
    uint32_t limit = !t->have_sample     ? PG_FIRST_SAMPLE_US
                     : t->rate_hz == 80 ? 3u * (uint32_t)PG_PERIOD_80_US
                                        : 3u * 100000UL;
    uint32_t since = t->have_sample ? t->last_sample_us : t->started_us;
    if (!t->adc_fault && (uint32_t)(now_us - since) > limit) {
        flush(t); /* what was read before the ADC stopped is good */
        t->adc_fault = true;
    }
    uint8_t flags = (t->saturated ? PG_FLAG_SATURATED : 0u) | (t->adc_fault ? PG_FLAG_ADC_FAULT : 0u);
    bool rose = (flags & ~t->sent_flags) != 0;
    bool fault_cleared = (t->sent_flags & PG_FLAG_ADC_FAULT) && !t->adc_fault;
    if (rose || fault_cleared || (uint32_t)(now_us - t->status_us) >= PG_STATUS_EVERY_US) {
        send_status(t, now_us, flags);
    }
    if (t->info_due) {
        t->info_due = false;
        send_info(t, now_us);
    }
}

void pg_tool_link_lost(pg_tool_t *t, uint32_t now_us)
{
    pg_alert_link_lost(&t->alert);
    drive(t, now_us);
}

void pg_tool_request_info(pg_tool_t *t)
{
    t->info_due = true;
}

void pg_tool_set_max_body(pg_tool_t *t, uint16_t max_body)
{
    uint16_t n = max_body >= PG_SAMPLES_BODY(1) ? (uint16_t)((max_body - 13u) / 4u) : 1u;
    t->link_max_n = (uint8_t)(n > PG_MAX_SAMPLES ? PG_MAX_SAMPLES : n);
}

/* The tool's behaviour, free of any board: what it sends and when (PROTOCOL.md §3, §4, §8), and
 * what it does with the host's commands. The sketch feeds it conversions, button readings,
 * received bodies and the time, and gives it two callbacks: one that sends a body on every link,
 * and one that sets the motor and buzzer pins. Portable C99, no Arduino dependency. */
#ifndef PG_TOOL_H
#define PG_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "pg_alert.h"
#include "pg_button.h"
#include "pg_cmd.h"
#include "pg_frame.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PG_BATCH 4u                     /* samples per SAMPLES frame at 80 SPS: 50 ms a frame */
#define PG_STATUS_EVERY_US 1000000UL    /* STATUS about once a second */
#define PG_FIRST_SAMPLE_US 500000UL     /* the HX711 settles up to 400 ms after power-up */
#define PG_PERIOD_80_US 12500u

/* Sends one body on every link (serial: COBS and a 0x00; BLE: one notification). */
typedef void (*pg_emit_fn)(void *ctx, const uint8_t *body, uint16_t len);
/* Sets the motor and buzzer outputs; called before any frame goes out, and only on a change. */
typedef void (*pg_output_fn)(void *ctx, bool motor, bool buzzer);

typedef struct {
    pg_emit_fn emit;
    pg_output_fn output;
    void *ctx;
    pg_info_t info;
    uint16_t seq;
    uint8_t body[PG_MAX_BODY];

    int32_t batch[PG_BATCH];
    uint8_t n;
    uint32_t batch_t_us;
    uint8_t link_max_n; /* what the smallest link carries (a BLE MTU below 30 carries fewer) */

    uint16_t rate_hz;   /* measured from the first two conversions: 80 or 10; 0 = not yet */
    uint16_t period_us; /* the measured conversion period (80 SPS); 0 at 10 SPS (unknown) */
    bool have_sample;
    uint32_t last_sample_us;
    uint32_t started_us;

    bool adc_fault;
    bool saturated;     /* a reading pinned at a rail since the last STATUS */
    uint8_t sent_flags;
    uint32_t status_us;
    uint16_t battery_mv; /* set by the sketch; 0 = unknown */
    bool info_due;

    pg_alert_t alert;
    pg_button_t button;
    bool outputs_known;
    bool motor;
    bool buzzer;
} pg_tool_t;

/* info's strings must live as long as the tool; info->rate_hz is the rate the build expects. */
void pg_tool_init(pg_tool_t *t, const pg_info_t *info, pg_emit_fn emit, pg_output_fn output,
                  void *ctx);

/* After power-up and the sync 0x00: INFO with seq 0, then a STATUS. */
void pg_tool_start(pg_tool_t *t, uint32_t now_us);

/* One HX711 conversion, read at t_us. The local limit is checked and the outputs set at once. */
void pg_tool_sample(pg_tool_t *t, uint32_t t_us, int32_t raw);

/* A raw button reading (true = pressed); BUTTON goes out on debounced changes. */
void pg_tool_button(pg_tool_t *t, uint32_t now_us, bool pressed);

/* One body from the host (a BLE write, or a frame the serial receiver cut out). */
pg_fault_t pg_tool_command(pg_tool_t *t, uint32_t now_us, const uint8_t *body, uint16_t len);

/* Call as often as possible: ADC timeout, STATUS, INFO, the caution pulse, the local alert. */
void pg_tool_poll(pg_tool_t *t, uint32_t now_us);

/* The link to the host is gone: the host's pattern ends (the local limit stays). */
void pg_tool_link_lost(pg_tool_t *t, uint32_t now_us);

/* Send INFO again at the next poll (HELLO, or a BLE host subscribing). */
void pg_tool_request_info(pg_tool_t *t);

/* The largest body the smallest link carries (BLE: MTU − 3); SAMPLES shrink to fit it. */
void pg_tool_set_max_body(pg_tool_t *t, uint16_t max_body);

#ifdef __cplusplus
}
#endif
#endif

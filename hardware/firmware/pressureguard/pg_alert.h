/* What drives the vibration motor and the buzzer: the host's HAPTIC pattern and the tool's own
 * LOCAL_LIMIT check (PROTOCOL.md §3). The motor runs with the stronger of the two; the buzzer
 * sounds with the local alert only, the backstop for a host that has stalled or gone.
 * Portable C99, no Arduino dependency; times are the tool's µs clock and may wrap. */
#ifndef PG_ALERT_H
#define PG_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PG_CAUTION_ON_US 200000UL      /* pattern 1: 200 ms on … */
#define PG_CAUTION_PERIOD_US 1000000UL /* … 800 ms off */
#define PG_LOCAL_RELEASE_US 100000UL   /* the local alert ends 100 ms after the condition */

typedef struct {
    uint8_t pattern;           /* the host's HAPTIC pattern, 0–2 */
    uint32_t pattern_since_us; /* when it arrived: the caution pulse starts on */
    int32_t threshold;         /* LOCAL_LIMIT, raw counts */
    int8_t direction;          /* +1 alert at raw ≥ threshold, −1 at raw ≤ threshold, 0 off */
    bool local;                /* the local alert is running */
    uint32_t last_hit_us;      /* the last sample that met the condition */
} pg_alert_t;

void pg_alert_init(pg_alert_t *a);

/* A HAPTIC command; reserved patterns (> 2) act as 2, so an unknown value fails towards alerting. */
void pg_alert_haptic(pg_alert_t *a, uint8_t pattern, uint32_t now_us);

/* A LOCAL_LIMIT command (already checked: direction is −1, 0 or +1). Direction 0 ends a running
 * local alert at once. */
void pg_alert_limit(pg_alert_t *a, int32_t threshold, int8_t direction);

/* The link to the host is gone (BLE disconnect): the host's pattern is off; the local limit,
 * kept in RAM, stays in force. */
void pg_alert_link_lost(pg_alert_t *a);

/* Check one sample taken at t_us. A saturated reading counts as meeting the condition, whatever
 * the direction: a pinned ADC is never taken as below the limit. Returns whether it met it. */
bool pg_alert_sample(pg_alert_t *a, int32_t raw, bool saturated, uint32_t t_us);

/* Outputs at time now_us. */
bool pg_alert_motor(const pg_alert_t *a, uint32_t now_us);
bool pg_alert_buzzer(const pg_alert_t *a);

#ifdef __cplusplus
}
#endif
#endif

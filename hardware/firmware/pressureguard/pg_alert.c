/* HAPTIC patterns and the local limit. */
#include "pg_alert.h"

void pg_alert_init(pg_alert_t *a)
{
    a->pattern = 0;
    a->pattern_since_us = 0;
    a->threshold = 0;
    a->direction = 0;
    a->local = false;
    a->last_hit_us = 0;
}

void pg_alert_haptic(pg_alert_t *a, uint8_t pattern, uint32_t now_us)
{
    uint8_t p = pattern > 2 ? 2 : pattern;
    if (p != a->pattern) {
        a->pattern_since_us = now_us; /* a repeated pattern does not restart its pulse */
    }
    a->pattern = p;
}

void pg_alert_limit(pg_alert_t *a, int32_t threshold, int8_t direction)
{
    a->threshold = threshold;
    a->direction = direction;
    if (direction == 0) {
        a->local = false;
    }
}

void pg_alert_link_lost(pg_alert_t *a)
{
    a->pattern = 0;
}

bool pg_alert_sample(pg_alert_t *a, int32_t raw, bool saturated, uint32_t t_us)
{
    if (a->direction == 0) {
        return false;
    }
    bool hit = saturated || (a->direction > 0 ? raw >= a->threshold : raw <= a->threshold);
    if (hit) {
        a->local = true; /* starts on the first sample that meets the condition */
        a->last_hit_us = t_us;
    } else if (a->local && (uint32_t)(t_us - a->last_hit_us) >= PG_LOCAL_RELEASE_US) {
        a->local = false; /* ends once the condition has been false for 100 ms */
    }
    return hit;
}

bool pg_alert_motor(const pg_alert_t *a, uint32_t now_us)
{
    if (a->local || a->pattern == 2) {
        return true;
    }
    if (a->pattern == 1) {
        return (uint32_t)(now_us - a->pattern_since_us) % PG_CAUTION_PERIOD_US < PG_CAUTION_ON_US;
    }
    return false;
}

bool pg_alert_buzzer(const pg_alert_t *a)
{
    return a->local;
}

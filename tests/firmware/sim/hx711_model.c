/* Simulated HX711 (see hx711_model.h). */
#include "hx711_model.h"

#include <stdio.h>

#include "sim_log.h"

static void set_dout(hx711_t *hx, bool level)
{
    hx->dout_level = level;
    sim_drive_pin(hx->dout, level);
}

static void sck_changed(struct avr_irq_t *irq, uint32_t value, void *param)
{
    (void)irq;
    hx711_t *hx = (hx711_t *)param;
    bool high = value != 0;
    if (high == hx->sck) {
        return;
    }
    hx->sck = high;
    uint64_t now = hx->avr->cycle;
    if (!high) {
        if (now - hx->sck_rise > hx->avr->frequency / 1000000 * 60) {
            sim_event("powerdown %llu", (unsigned long long)sim_ns(hx->avr, now));
        }
        return;
    }
    hx->sck_rise = now;
    if (hx->conversion < 0) {
        sim_event("spurious_sck %llu", (unsigned long long)sim_ns(hx->avr, now));
        return;
    }
    hx->pulses++;
    if (hx->pulses <= 24) {
        set_dout(hx, (hx->data >> (24 - hx->pulses)) & 1u);
    } else if (hx->pulses == 25) {
        set_dout(hx, true); /* channel A, gain 128 next; the conversion is taken */
        hx->unread = false;
        sim_event("read %d %llu", hx->conversion, (unsigned long long)sim_ns(hx->avr, now));
    }
}

void hx711_init(hx711_t *hx, avr_t *avr, avr_irq_t *sck, avr_irq_t *dout, int rate_hz,
                double first_ms)
{
    hx->avr = avr;
    hx->dout = dout;
    hx->period_cycles = (uint64_t)avr->frequency / (uint64_t)rate_hz;
    hx->first_cycle = (uint64_t)(first_ms * (double)avr->frequency / 1000.0);
    hx->next_slot = 0;
    hx->conversion = -1;
    hx->conversions = 0;
    hx->pulses = 0;
    hx->unread = false;
    hx->sck = false;
    set_dout(hx, true); /* not ready */
    avr_irq_register_notify(sck, sck_changed, hx);
}

uint64_t hx711_next_cycle(const hx711_t *hx)
{
    if (hx->next_slot >= hx->nslots) {
        return UINT64_MAX;
    }
    return hx->first_cycle + (uint64_t)hx->next_slot * hx->period_cycles;
}

void hx711_tick(hx711_t *hx, uint64_t cycle)
{
    while (hx->next_slot < hx->nslots && hx711_next_cycle(hx) <= cycle) {
        int slot = hx->next_slot++;
        if (hx->stall[slot]) {
            continue;
        }
        if (hx->conversion >= 0 && (hx->unread || (hx->pulses > 0 && hx->pulses != 25))) {
            sim_event("missed %d pulses=%d", hx->conversion, hx->pulses);
        }
        hx->conversion = hx->conversions++;
        hx->data = (uint32_t)hx->value[slot] & 0xFFFFFFu;
        hx->pulses = 0;
        hx->unread = true;
        set_dout(hx, false);
        sim_event("drdy %d %llu %ld", hx->conversion, (unsigned long long)sim_ns(hx->avr, cycle),
                  (long)hx->value[slot]);
    }
}

bool hx711_dout(const hx711_t *hx)
{
    return hx->dout_level;
}

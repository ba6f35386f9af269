/* A simulated HX711 on simavr's GPIO: conversions at 80 (or 10) SPS whose counts follow a
 * script, DOUT low when one is ready, 24 bits shifted out MSB first on PD_SCK's rising edges,
 * DOUT high again after the 25th pulse. It reports what a real chip would punish: a conversion
 * overwritten before it was read, a PD_SCK high for more than 60 µs (power-down), a read that
 * was not 25 pulses long (another channel or gain). */
#ifndef HX711_MODEL_H
#define HX711_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include <sim_avr.h>
#include <sim_irq.h>

#define HX_MAX_SLOTS 20000

typedef struct {
    avr_t *avr;
    avr_irq_t *dout;
    uint64_t period_cycles;
    uint64_t first_cycle;
    int nslots;
    int32_t value[HX_MAX_SLOTS]; /* the count of each conversion slot … */
    bool stall[HX_MAX_SLOTS];    /* … or no conversion in that slot */
    int next_slot;               /* the next slot to fire */
    int conversion;              /* index of the conversion being shifted out, -1 none */
    int conversions;             /* conversions made so far */
    uint32_t data;
    int pulses;
    bool unread;
    bool sck;
    uint64_t sck_rise;
    bool dout_level;
} hx711_t;

void hx711_init(hx711_t *hx, avr_t *avr, avr_irq_t *sck, avr_irq_t *dout, int rate_hz,
                double first_ms);

/* Cycle of the next conversion slot, or UINT64_MAX when the script is done. */
uint64_t hx711_next_cycle(const hx711_t *hx);

/* Fire every slot due at `cycle`. */
void hx711_tick(hx711_t *hx, uint64_t cycle);

/* The DOUT level the chip drives; re-applied after an MCU reset (the HX711 is not reset). */
bool hx711_dout(const hx711_t *hx);

#endif

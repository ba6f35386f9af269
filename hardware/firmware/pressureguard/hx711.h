/* HX711 24-bit ADC, bit-banged (Debian ships no HX711 library, and 20 lines need none). */
#ifndef PG_HX711_H
#define PG_HX711_H

#include <stdint.h>

void hx711_begin(uint8_t dout_pin, uint8_t sck_pin);

/* DOUT low: a conversion is waiting to be read. */
bool hx711_ready();

/* Clocks out one conversion (channel A, gain 128 for the next): 24 bits MSB first, then a 25th
 * pulse, and sign-extends it. Returns false if DOUT did not go back high after the 25th pulse,
 * which a real HX711 always does (a floating or shorted DOUT line). */
bool hx711_read(int32_t *raw);

#endif

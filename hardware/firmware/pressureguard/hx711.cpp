/* HX711 driver. PD_SCK must not stay high for 60 µs or the chip powers down, so each high
 * phase runs with interrupts held off; the low phases let the UART and timer interrupts in. */
#include <Arduino.h>

#include "hx711.h"

static uint8_t dout;
static uint8_t sck;

#if defined(ARDUINO_ARCH_ESP32)
static portMUX_TYPE hx711_mux = portMUX_INITIALIZER_UNLOCKED;
#define PULSE_BEGIN() portENTER_CRITICAL(&hx711_mux)
#define PULSE_END() portEXIT_CRITICAL(&hx711_mux)
#else
#define PULSE_BEGIN() noInterrupts()
#define PULSE_END() interrupts()
#endif

void hx711_begin(uint8_t dout_pin, uint8_t sck_pin)
{
    dout = dout_pin;
    sck = sck_pin;
    pinMode(sck, OUTPUT);
    digitalWrite(sck, LOW); /* low keeps the HX711 powered up */
    pinMode(dout, INPUT);
}

bool hx711_ready()
{
    return digitalRead(dout) == LOW;
}

static uint8_t pulse()
{
    PULSE_BEGIN();
    digitalWrite(sck, HIGH);
    delayMicroseconds(1); /* ≥ 0.2 µs high; DOUT is valid 0.1 µs after the rising edge */
    uint8_t bit = digitalRead(dout) == HIGH ? 1 : 0;
    digitalWrite(sck, LOW);
    PULSE_END();
    delayMicroseconds(1);
    return bit;
}

bool hx711_read(int32_t *raw)
{
    uint32_t value = 0;
    for (uint8_t i = 0; i < 24; i++) {
        value = (value << 1) | pulse();
    }
    pulse(); /* 25th: channel A, gain 128 for the next conversion; DOUT goes high */
    if (digitalRead(dout) == LOW) {
        return false;
    }
    if (value & 0x800000UL) {
        value |= 0xFF000000UL;
    }
    *raw = (int32_t)value;
    return true;
}

/* PressureGuard tool firmware: one sketch for the Arduino Nano (USB serial) and the ESP32 DevKit
 * (USB serial and Bluetooth LE). It speaks wire protocol v1 (hardware/PROTOCOL.md).
 *
 * The protocol and the tool's behaviour are in the portable C core (pg_*.c, no Arduino code,
 * tested on the host); this file only connects it to the pins, the UART, the clock and BLE.
 * Build, flash and wiring: hardware/README.md. */
#include <Arduino.h>

#include "board.h"
#include "hx711.h"
#include "pg_cobs.h"
#include "pg_tool.h"
#include "platform.h"
#if PG_HAS_BLE
#include "ble_link.h"
#endif

#define PG_RX_CAP 32 /* the longest command (LOCAL_LIMIT) is 17 bytes COBS-encoded */

static pg_tool_t tool;
static pg_rx_t rx;
static uint8_t rx_buf[PG_RX_CAP];
static char device_id[10];
static uint32_t battery_checked_us;

static void serial_put(void *ctx, uint8_t byte)
{
    (void)ctx;
    Serial.write(byte);
}

/* Every body goes out on every link: COBS and a 0x00 on serial, one notification on BLE. */
static void emit(void *ctx, const uint8_t *body, uint16_t len)
{
    pg_cobs_write(body, len, serial_put, ctx);
    Serial.write((uint8_t)0);
#if PG_HAS_BLE
    ble_link_send(body, len);
#endif
}

static void output(void *ctx, bool motor, bool buzzer)
{
    (void)ctx;
    digitalWrite(PG_PIN_MOTOR, motor ? HIGH : LOW);
    digitalWrite(PG_PIN_BUZZER, buzzer ? HIGH : LOW);
}

void setup()
{
    pinMode(PG_PIN_MOTOR, OUTPUT);
    pinMode(PG_PIN_BUZZER, OUTPUT);
    digitalWrite(PG_PIN_MOTOR, LOW);
    digitalWrite(PG_PIN_BUZZER, LOW);
    pinMode(PG_PIN_BUTTON, INPUT_PULLUP);
    hx711_begin(PG_PIN_HX_DOUT, PG_PIN_HX_SCK);
    Serial.begin(PG_BAUD);

    platform_device_id(device_id);
    pg_info_t info = {};
    info.device_id = device_id;
    info.firmware = PG_FIRMWARE_VERSION;
    info.adc = "HX711";
    info.rate_hz = PG_RATE_HZ;
    info.capacity_n = PG_CAPACITY_N;
    info.counts_per_n = PG_COUNTS_PER_N;
    info.offset_counts = PG_OFFSET_COUNTS;
    info.tip_area_cm2 = PG_TIP_AREA_CM2;
    pg_tool_init(&tool, &info, emit, output, NULL);
    pg_rx_init(&rx, rx_buf, sizeof rx_buf);

    Serial.write((uint8_t)0); /* sync: the host never throws the first frame away */
    pg_tool_start(&tool, micros());
#if PG_HAS_BLE
    ble_link_begin(device_id);
#endif
    platform_watchdog_begin();
}

void loop()
{
    platform_watchdog_kick();

    if (hx711_ready()) {
        uint32_t t_us = micros();
        int32_t raw;
        if (hx711_read(&raw)) {
            pg_tool_sample(&tool, t_us, raw); /* sets the motor at once if over the local limit */
        }
    }

    while (Serial.available() > 0) {
        int n = pg_rx_push(&rx, (uint8_t)Serial.read());
        if (n > 0) {
            pg_tool_command(&tool, micros(), rx.buf, (uint16_t)n);
        }
    }
#if PG_HAS_BLE
    ble_link_poll(&tool, micros());
#endif

    uint32_t now = micros();
    pg_tool_button(&tool, now, digitalRead(PG_PIN_BUTTON) == LOW);
    if ((uint32_t)(now - battery_checked_us) >= 500000UL) {
        battery_checked_us = now;
        tool.battery_mv = platform_battery_mv();
    }
    pg_tool_poll(&tool, now);
}

/* Device id, watchdog and battery for the Nano (AVR) and the ESP32. */
#include <Arduino.h>

#include "board.h"
#include "platform.h"

static const char HEX_DIGITS[] = "0123456789ABCDEF";

static void format_id(char *buf, uint32_t id)
{
    buf[0] = 'P';
    buf[1] = 'G';
    buf[2] = '-';
    for (uint8_t i = 0; i < 6; i++) {
        buf[3 + i] = HEX_DIGITS[(id >> (20 - 4 * i)) & 0xF];
    }
    buf[9] = '\0';
}

uint16_t platform_battery_mv()
{
#if PG_PIN_BATTERY >= 0
#if defined(ARDUINO_ARCH_ESP32)
    uint32_t mv = analogReadMilliVolts(PG_PIN_BATTERY) * PG_BATTERY_DIVIDER;
#else
    uint32_t mv = (uint32_t)analogRead(PG_PIN_BATTERY) * 5000UL / 1023UL * PG_BATTERY_DIVIDER;
#endif
    return mv < 1000 ? 0 : (uint16_t)mv; /* nothing on the pin: unknown */
#else
    return 0;
#endif
}

#if defined(ARDUINO_ARCH_ESP32)
#include <esp_arduino_version.h>
#include <esp_task_wdt.h>

#define PG_WATCHDOG_MS 2000

void platform_device_id(char *buf)
{
    uint64_t mac = ESP.getEfuseMac(); /* the NIC-specific bytes come last on air, first here */
    uint32_t id = (uint32_t)((mac >> 24) & 0xFFFFFFUL);
    format_id(buf, id);
}

void platform_watchdog_begin()
{
#if ESP_ARDUINO_VERSION_MAJOR >= 3
    esp_task_wdt_config_t config = {};
    config.timeout_ms = PG_WATCHDOG_MS;
    config.idle_core_mask = 0;
    config.trigger_panic = true;
    if (esp_task_wdt_init(&config) != ESP_OK) {
        esp_task_wdt_reconfigure(&config); /* the core started it already */
    }
#else
    esp_task_wdt_init(PG_WATCHDOG_MS / 1000, true);
#endif
    esp_task_wdt_add(NULL); /* the loop task */
}

void platform_watchdog_kick()
{
    esp_task_wdt_reset();
}

#elif defined(ARDUINO_ARCH_AVR)
#include <EEPROM.h>
#include <avr/wdt.h>

#define PG_WATCHDOG_MS 250

/* After a watchdog reset the watchdog stays on at its shortest timeout (16 ms), and the start-up
 * alone is longer than that: clear it before anything else runs, or the board resets forever. */
extern "C" void pg_watchdog_off(void) __attribute__((naked, used, section(".init3")));
extern "C" void pg_watchdog_off(void)
{
    MCUSR = 0;
    wdt_disable();
}

void platform_device_id(char *buf)
{
    /* EEPROM 0..4: 'P', 'G', then three id bytes. */
    if (EEPROM.read(0) != 'P' || EEPROM.read(1) != 'G') {
        uint32_t seed = micros();
        for (uint8_t i = 0; i < 64; i++) {
            seed = seed * 1103515245UL + 12345UL + (uint32_t)analogRead(A7); /* a floating pin */
        }
        EEPROM.update(2, (uint8_t)(seed >> 16));
        EEPROM.update(3, (uint8_t)(seed >> 8));
        EEPROM.update(4, (uint8_t)seed);
        EEPROM.update(0, 'P');
        EEPROM.update(1, 'G');
    }
    uint32_t id = ((uint32_t)EEPROM.read(2) << 16) | ((uint32_t)EEPROM.read(3) << 8) | EEPROM.read(4);
    format_id(buf, id);
}

void platform_watchdog_begin()
{
    wdt_enable(WDTO_250MS);
}

void platform_watchdog_kick()
{
    wdt_reset();
}
#endif

/* What differs between the boards apart from the pins: the device id, the watchdog and the
 * battery reading. */
#ifndef PG_PLATFORM_H
#define PG_PLATFORM_H

#include <stdint.h>

/* "PG-" and 6 hex digits, stable for this board: from the eFuse MAC on the ESP32; on the Nano
 * (which has no serial number) made once from ADC noise and kept in EEPROM. buf: 10 bytes. */
void platform_device_id(char *buf);

/* Start the watchdog: a main loop stuck for longer than PG_WATCHDOG_MS resets the board. */
void platform_watchdog_begin();
void platform_watchdog_kick();

/* Battery voltage in mV, or 0 when unknown (no divider fitted, or USB powered). */
uint16_t platform_battery_mv();

#endif

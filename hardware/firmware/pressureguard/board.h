/* Pins and build options of the two supported boards. Change them here (and in the wiring
 * diagrams, hardware/diagrams/) if you wire the tool differently. */
#ifndef PG_BOARD_H
#define PG_BOARD_H

#define PG_FIRMWARE_VERSION "1.0.0"
#define PG_BAUD 115200UL
#define PG_RATE_HZ 80 /* the HX711's RATE pin tied high; a module left at 10 SPS is detected */

/* Optional INFO keys, as JSON number text, or NULL to leave them out. The host calibrates the
 * tool itself (pressureguard calibrate), so the factory calibration keys are left out. */
#define PG_CAPACITY_N "196"      /* rated capacity of the load cell in N: 20 kg = 196 N */
#define PG_TIP_AREA_CM2 NULL     /* e.g. "1.0" for the 1 cm² flat algometer disc */
#define PG_COUNTS_PER_N NULL
#define PG_OFFSET_COUNTS NULL

#if defined(ARDUINO_ARCH_ESP32)
/* ESP32 DevKit (ESP32-WROOM-32): USB serial and Bluetooth LE. All pins avoid the strapping
 * pins (0, 2, 5, 12, 15) and the flash pins (6–11). */
#define PG_BOARD_NAME "esp32"
#define PG_PIN_HX_SCK 18  /* HX711 PD_SCK */
#define PG_PIN_HX_DOUT 19 /* HX711 DOUT */
#define PG_PIN_MOTOR 25   /* vibration motor driver (NPN base through 1 kΩ) */
#define PG_PIN_BUZZER 26  /* active buzzer driver (NPN base through 1 kΩ) */
#define PG_PIN_BUTTON 27  /* push button to GND, internal pull-up */
#define PG_PIN_BATTERY 34 /* battery through a 100 kΩ / 100 kΩ divider; -1 if not fitted */
#define PG_BATTERY_DIVIDER 2
#define PG_HAS_BLE 1

#elif defined(ARDUINO_ARCH_AVR)
/* Arduino Nano (ATmega328P, 16 MHz, 5 V): USB serial only. */
#define PG_BOARD_NAME "nano"
#define PG_PIN_HX_SCK 2   /* D2: HX711 PD_SCK */
#define PG_PIN_HX_DOUT 3  /* D3: HX711 DOUT */
#define PG_PIN_BUTTON 4   /* D4: push button to GND, internal pull-up */
#define PG_PIN_MOTOR 5    /* D5: vibration motor driver (NPN base through 1 kΩ) */
#define PG_PIN_BUZZER 6   /* D6: active buzzer driver (NPN base through 1 kΩ) */
#define PG_PIN_BATTERY -1 /* powered from USB: battery unknown (STATUS says 0) */
#define PG_BATTERY_DIVIDER 1
#define PG_HAS_BLE 0

#else
#error "PressureGuard firmware supports the Arduino Nano (AVR) and the ESP32 DevKit"
#endif

#endif

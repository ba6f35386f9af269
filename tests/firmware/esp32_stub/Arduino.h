/* Stand-in for the ESP32 Arduino core's API, declarations only: lets the host compiler check the
 * ESP32 build's sources (tests/firmware/test_esp32_source.py). Only what the sketch uses, with
 * the core's signatures. ESP_STUB_MAJOR picks the 2.x or 3.x flavour. */
#ifndef ESP32_STUB_ARDUINO_H
#define ESP32_STUB_ARDUINO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <string>

#ifndef ESP_STUB_MAJOR
#define ESP_STUB_MAJOR 2
#endif

#define HIGH 0x1
#define LOW 0x0
#define INPUT 0x01
#define OUTPUT 0x03
#define INPUT_PULLUP 0x05

void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);
unsigned long micros();
void delayMicroseconds(uint32_t us);
uint32_t analogReadMilliVolts(uint8_t pin);

typedef struct {
    uint32_t owner;
    uint32_t count;
} portMUX_TYPE;
#define portMUX_INITIALIZER_UNLOCKED {0, 0}
void vPortEnterCritical(portMUX_TYPE *mux);
void vPortExitCritical(portMUX_TYPE *mux);
#define portENTER_CRITICAL(mux) vPortEnterCritical(mux)
#define portEXIT_CRITICAL(mux) vPortExitCritical(mux)

class HardwareSerial {
public:
    void begin(unsigned long baud);
    int available();
    int read();
    size_t write(uint8_t byte);
};
extern HardwareSerial Serial;

class EspClass {
public:
    uint64_t getEfuseMac();
};
extern EspClass ESP;

#if ESP_STUB_MAJOR >= 3
class String {
public:
    String(const char *s = "");
    unsigned int length() const;
};
#endif

/* FreeRTOS queues */
typedef void *QueueHandle_t;
typedef int BaseType_t;
#define pdTRUE 1
QueueHandle_t xQueueCreate(unsigned long length, unsigned long item_size);
BaseType_t xQueueSend(QueueHandle_t queue, const void *item, uint32_t ticks);
BaseType_t xQueueReceive(QueueHandle_t queue, void *item, uint32_t ticks);

#endif

/* Stand-in (see Arduino.h). */
#define ESP_ARDUINO_VERSION_MAJOR ESP_STUB_MAJOR

/* Shared helpers of the simulated board: the event log and driving input pins. */
#ifndef SIM_LOG_H
#define SIM_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include <sim_avr.h>
#include <sim_irq.h>

/* One line on stdout (line-buffered), read by the tests. */
void sim_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Simulated time of a cycle, in ns. */
uint64_t sim_ns(const avr_t *avr, uint64_t cycle);

/* Drive an input pin from outside (a sensor's output, a button): the level wins over the
 * MCU's internal pull-up, as a real push-pull output or a closed contact does. */
void sim_drive_pin(avr_irq_t *pin, bool level);

#endif

/* Debouncing the tool's push button: a change counts once the contact has been steady for
 * 20 ms, and is dated at its first edge. Portable C99, no Arduino dependency. */
#ifndef PG_BUTTON_H
#define PG_BUTTON_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PG_DEBOUNCE_US 20000UL

typedef struct {
    bool stable;        /* the debounced state: true = pressed */
    bool last;          /* the last raw reading */
    uint32_t edge_us;   /* when the raw reading last changed */
} pg_button_t;

void pg_button_init(pg_button_t *b);

/* Feed a raw reading (true = pressed). Returns true when the debounced state changed; then
 * b->stable is the new state and *at_us the time of the change. */
bool pg_button_update(pg_button_t *b, bool pressed, uint32_t now_us, uint32_t *at_us);

#ifdef __cplusplus
}
#endif
#endif

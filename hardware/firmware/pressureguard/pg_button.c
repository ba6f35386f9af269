/* Push-button debouncer. */
#include "pg_button.h"

void pg_button_init(pg_button_t *b)
{
    b->stable = false;
    b->last = false;
    b->edge_us = 0;
}

bool pg_button_update(pg_button_t *b, bool pressed, uint32_t now_us, uint32_t *at_us)
{
    if (pressed != b->last) {
        b->last = pressed;
        b->edge_us = now_us;
        return false;
    }
    if (pressed != b->stable && (uint32_t)(now_us - b->edge_us) >= PG_DEBOUNCE_US) {
        b->stable = pressed;
        *at_us = b->edge_us;
        return true;
    }
    return false;
}

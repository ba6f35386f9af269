/* Bluetooth LE link of the ESP32 build: the GATT service of hardware/PROTOCOL.md §9.
 * One notification = one tool → host body; one write = one host → tool body; no COBS. */
#ifndef PG_BLE_LINK_H
#define PG_BLE_LINK_H

#include <stdint.h>

#include "pg_tool.h"

/* PROTOCOL.md §9, checked against the table and the host's constants by
 * tests/firmware/test_gatt_table.py. */
#define PG_BLE_SERVICE_UUID "d88e0001-d0c8-474f-93bf-f3dbbc140807"
#define PG_BLE_NOTIFY_UUID "d88e0002-d0c8-474f-93bf-f3dbbc140807" /* tool → host */
#define PG_BLE_WRITE_UUID "d88e0003-d0c8-474f-93bf-f3dbbc140807"  /* host → tool */
#define PG_BLE_NAME_PREFIX "PressureGuard"

/* Start the GATT server and advertise as PressureGuard-XXXX (the id's last 4 hex digits). */
void ble_link_begin(const char *device_id);

/* From loop(): hands queued writes to the tool, follows connects, disconnects, subscriptions and
 * the MTU, and sends INFO once a subscribed host's MTU carries it. */
void ble_link_poll(pg_tool_t *tool, uint32_t now_us);

/* Notify one body if a host is subscribed and the MTU carries it (never split). */
void ble_link_send(const uint8_t *body, uint16_t len);

#endif

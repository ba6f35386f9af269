/* ESP32 GATT server (arduino-esp32 core 2.0.x to 3.2.x, Bluedroid BLE library).
 * The BLE stack runs its callbacks in its own task: they only set flags and queue the written
 * bodies, and everything that touches the tool runs in loop(). */
#if defined(ARDUINO_ARCH_ESP32)

#include <Arduino.h>
#include <BLE2902.h>
#include <BLEDevice.h>
#include <BLEServer.h>
#include <BLEUtils.h>

#include "ble_link.h"

#define PG_BLE_MTU 247        /* the MTU the tool accepts: every frame fits (a 244-byte value) */
#define PG_WRITE_QUEUE 8      /* host commands waiting for loop() */
#define PG_WRITE_MAX 20       /* the longest command is 15 bytes; longer writes are dropped */

typedef struct {
    uint8_t len;
    uint8_t data[PG_WRITE_MAX];
} ble_write_t;

static BLEServer *server;
static BLECharacteristic *to_host;
static BLECharacteristic *from_host;
static BLE2902 *cccd;
static QueueHandle_t writes;
static volatile bool connected;
static volatile bool disconnected; /* a disconnect loop() has not handled yet */
static bool subscribed;
static bool info_waiting;          /* a subscribed host is owed an INFO */
static uint16_t max_body = 20;     /* MTU − 3; 20 until the host exchanges the MTU */
static uint32_t mtu_checked_us;

class ServerEvents : public BLEServerCallbacks {
    void onConnect(BLEServer *) override
    {
        connected = true;
    }
    void onDisconnect(BLEServer *) override
    {
        connected = false;
        disconnected = true;
    }
};

class CommandEvents : public BLECharacteristicCallbacks {
    void onWrite(BLECharacteristic *characteristic) override
    {
        ble_write_t item;
        size_t len = characteristic->getValue().length();
        if (len == 0 || len > PG_WRITE_MAX) {
            return; /* no command is that long: not ours */
        }
        item.len = (uint8_t)len;
        memcpy(item.data, characteristic->getData(), len);
        xQueueSend(writes, &item, 0); /* a full queue drops it; the host writes with response */
    }
};

void ble_link_begin(const char *device_id)
{
    char name[24];
    snprintf(name, sizeof name, "%s-%s", PG_BLE_NAME_PREFIX, device_id + 5); /* PG-3F2A9C → 2A9C */
    writes = xQueueCreate(PG_WRITE_QUEUE, sizeof(ble_write_t));

    BLEDevice::init(name);
    BLEDevice::setMTU(PG_BLE_MTU);
    server = BLEDevice::createServer();
    server->setCallbacks(new ServerEvents());

    BLEService *service = server->createService(PG_BLE_SERVICE_UUID);
    to_host = service->createCharacteristic(PG_BLE_NOTIFY_UUID, BLECharacteristic::PROPERTY_NOTIFY);
    cccd = new BLE2902();
    to_host->addDescriptor(cccd);
    from_host = service->createCharacteristic(
        PG_BLE_WRITE_UUID, BLECharacteristic::PROPERTY_WRITE | BLECharacteristic::PROPERTY_WRITE_NR);
    from_host->setCallbacks(new CommandEvents());
    service->start();

    /* The 128-bit service UUID in the advertising data, the name in the scan response: the two do
     * not fit together in 31 bytes (PROTOCOL.md §9). */
    BLEAdvertising *advertising = BLEDevice::getAdvertising();
    BLEAdvertisementData advert;
    advert.setFlags(0x06); /* LE general discoverable, no BR/EDR */
    advert.setCompleteServices(BLEUUID(PG_BLE_SERVICE_UUID));
    BLEAdvertisementData scan_response;
    scan_response.setName(name);
    advertising->setAdvertisementData(advert);
    advertising->setScanResponseData(scan_response);
    BLEDevice::startAdvertising();
}

static void follow_mtu(pg_tool_t *tool)
{
    uint16_t mtu = connected ? server->getPeerMTU(server->getConnId()) : 0;
    uint16_t body = mtu > 3 ? (uint16_t)(mtu - 3) : 20;
    if (!connected) {
        body = PG_MAX_BODY; /* no BLE host: only the serial link counts */
    }
    if (body != max_body) {
        max_body = body;
        pg_tool_set_max_body(tool, body); /* SAMPLES shrink so that 13 + 4·n ≤ MTU − 3 */
    }
}

void ble_link_poll(pg_tool_t *tool, uint32_t now_us)
{
    ble_write_t item;
    while (xQueueReceive(writes, &item, 0) == pdTRUE) {
        pg_tool_command(tool, now_us, item.data, item.len);
    }
    if (disconnected) {
        disconnected = false;
        subscribed = false;
        info_waiting = false;
        pg_tool_link_lost(tool, now_us); /* the host's pattern ends; the local limit stays */
        BLEDevice::startAdvertising();
    }
    if ((uint32_t)(now_us - mtu_checked_us) >= 50000UL) {
        mtu_checked_us = now_us;
        follow_mtu(tool);
    }
    bool now_subscribed = connected && cccd->getNotifications();
    if (now_subscribed && !subscribed) {
        info_waiting = true; /* PROTOCOL.md §9: INFO once the host has enabled notifications */
    }
    subscribed = now_subscribed;
    if (info_waiting && subscribed) {
        char json[PG_MAX_INFO_JSON];
        size_t len = pg_info_json(json, sizeof json, &tool->info);
        if (PG_MIN_BODY + len <= max_body) { /* held back until the MTU carries it */
            info_waiting = false;
            pg_tool_request_info(tool);
        }
    }
}

void ble_link_send(const uint8_t *body, uint16_t len)
{
    if (!connected || !subscribed || len > max_body) {
        return;
    }
    to_host->setValue((uint8_t *)body, len);
    to_host->notify();
}

#endif

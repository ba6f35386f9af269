/* Stand-in for arduino-esp32's BLE library (Bluedroid), declarations only (see Arduino.h). */
#ifndef ESP32_STUB_BLE_H
#define ESP32_STUB_BLE_H
#include "Arduino.h"

#if ESP_STUB_MAJOR >= 3
typedef String BLEString;
#else
typedef std::string BLEString;
#endif

class BLEUUID {
public:
    BLEUUID(const char *uuid);
};

class BLEDescriptor {
public:
    virtual ~BLEDescriptor();
};

class BLECharacteristic;
class BLECharacteristicCallbacks {
public:
    virtual ~BLECharacteristicCallbacks();
    virtual void onWrite(BLECharacteristic *characteristic);
};

class BLECharacteristic {
public:
    static const uint32_t PROPERTY_READ = 1 << 0;
    static const uint32_t PROPERTY_WRITE = 1 << 1;
    static const uint32_t PROPERTY_NOTIFY = 1 << 2;
    static const uint32_t PROPERTY_INDICATE = 1 << 4;
    static const uint32_t PROPERTY_WRITE_NR = 1 << 5;
    void addDescriptor(BLEDescriptor *descriptor);
    BLEString getValue();
    uint8_t *getData();
    void notify(bool is_notification = true);
    void setCallbacks(BLECharacteristicCallbacks *callbacks);
    void setValue(uint8_t *data, size_t size);
};

class BLEService {
public:
    BLECharacteristic *createCharacteristic(const char *uuid, uint32_t properties);
    void start();
};

class BLEServer;
class BLEServerCallbacks {
public:
    virtual ~BLEServerCallbacks();
    virtual void onConnect(BLEServer *server);
    virtual void onDisconnect(BLEServer *server);
};

class BLEServer {
public:
    BLEService *createService(const char *uuid);
    void setCallbacks(BLEServerCallbacks *callbacks);
    uint16_t getPeerMTU(uint16_t conn_id);
    uint16_t getConnId();
};

class BLEAdvertisementData {
public:
    void setFlags(uint8_t flags);
    void setCompleteServices(BLEUUID uuid);
    void setName(BLEString name);
};

class BLEAdvertising {
public:
    void setAdvertisementData(BLEAdvertisementData &data);
    void setScanResponseData(BLEAdvertisementData &data);
};

class BLEDevice {
public:
    static void init(BLEString name);
    static int setMTU(uint16_t mtu);
    static BLEServer *createServer();
    static BLEAdvertising *getAdvertising();
    static void startAdvertising();
};
#endif

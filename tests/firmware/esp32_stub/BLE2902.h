/* Stand-in (see BLEDevice.h): the Client Characteristic Configuration descriptor. */
#include "BLEDevice.h"
class BLE2902 : public BLEDescriptor {
public:
    BLE2902();
    bool getNotifications();
};

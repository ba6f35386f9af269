/* Stand-in (see BLEDevice.h). */
#include "BLEDevice.h"

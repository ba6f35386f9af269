"""Bluetooth LE: one asyncio loop on its own thread, bleak on top, bumble as an optional stack.

- :mod:`~firmware_bridge.ble.runtime`: the process's single BLE event loop (thread
  ``pressureguard-ble``); synchronous code hands it coroutines.
- :mod:`~firmware_bridge.ble.stack`: which Bluetooth stack bleak runs on: the platform backend
  (BlueZ, CoreBluetooth, WinRT) by default, or the project's bumble backend on an HCI transport
  (``--ble-hci`` / ``PRESSUREGUARD_BLE_HCI``).
- :mod:`~firmware_bridge.ble.bumble_backend`: bleak's backend API implemented over bumble.
- :mod:`~firmware_bridge.ble.discovery`: scanning for PressureGuard and Progressor-protocol tools.
- :mod:`~firmware_bridge.ble.link`: one connection: notifications queued for a reader thread,
  writes in order, disconnects reported.
- :mod:`~firmware_bridge.ble.peripheral`: the virtual tools ``pressureguard ble-sim`` serves.

Nothing here is imported unless a BLE source, ``devices`` or ``ble-sim`` needs it.
"""

#: The environment variable naming a bumble HCI transport, like ``--ble-hci``.
HCI_ENV = "PRESSUREGUARD_BLE_HCI"

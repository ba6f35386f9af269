"""PressureGuard bridge: sources, wire protocol, signal pipeline, safety zones, session store, CLI.

Kept small on purpose: optional transports (serial, BLE) are imported only when a source needs them.
"""

__version__ = "0.1.0"

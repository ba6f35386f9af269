"""The session store: one SQLite database (WAL) that is the bus between bridge and dashboard.

See :class:`Store` for the API and :mod:`firmware_bridge.store.exchange` for CSV/JSON export and
import.
"""

from firmware_bridge.store.exchange import export_csv, export_json, import_file
from firmware_bridge.store.schema import SCHEMA_VERSION
from firmware_bridge.store.store import DB_NAME, Store, default_data_dir

__all__ = [
    "DB_NAME",
    "SCHEMA_VERSION",
    "Store",
    "default_data_dir",
    "export_csv",
    "export_json",
    "import_file",
]

"""``python -m firmware_bridge.cli``."""

import sys

from firmware_bridge.cli import main

sys.exit(main())

"""The ``notifier`` process as ``gamestore serve notifier`` runs it (TXT log, stop on SIGTERM),
for tests that kill it; the settings come from the ``GAMESTORE_*`` environment.

Usage: python notifier_child.py
"""

from __future__ import annotations

import sys

from gamestore.cli.serve import serve_process
from gamestore.platform.config import Settings
from gamestore.processes import ProcessSpec

NOTIFIER = ProcessSpec(name="notifier", target="gamestore.notifications.bootstrap:main")

if __name__ == "__main__":
    sys.exit(serve_process(NOTIFIER, Settings()))

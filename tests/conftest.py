# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Make this checkout importable as ``ansible_collections.datasurface.yellow`` for pytest.

scripts/setup.sh creates the git-ignored self-link ``.collections/ansible_collections/datasurface/yellow``;
it is created here too when missing so that ``pytest tests/unit`` works on its own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".collections"
SELF_LINK = COLLECTIONS / "ansible_collections" / "datasurface" / "yellow"

if not SELF_LINK.exists():
    SELF_LINK.parent.mkdir(parents=True, exist_ok=True)
    os.symlink("../../..", SELF_LINK)

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

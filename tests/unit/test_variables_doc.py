# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""docs/variables.md is generated from the roles' argument specs and must be up to date."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_variables_reference_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "variables_doc.py"), "--check"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_role_is_in_the_reference():
    text = (ROOT / "docs" / "variables.md").read_text(encoding="utf-8")
    for spec in ROOT.glob("roles/*/meta/argument_specs.yml"):
        assert f"## Role `{spec.parent.parent.name}`" in text

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Every boolean input is read with Ansible's boolean rules wherever a decision is made (issue 11, defect 1).

A string "false" is true in Jinja (`{% if "false" %}`, `when: yellow_x` with x a string), so every
use of a bool option of any role (and of the shared yellow_lab) in tasks, handlers, templates and
playbooks must be `name | bool`, or the whole value of a module argument (`opt: "{{ name }}"`,
converted by the module's own bool option), or a role variable passed on unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED_FLAGS = {"yellow_lab"}


def bool_options() -> set[str]:
    names = set(SHARED_FLAGS)
    for path in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        for spec in yaml.safe_load(path.read_text())["argument_specs"].values():
            names |= {name for name, option in (spec.get("options") or {}).items() if option.get("type") == "bool"}
    return names


def files():
    for pattern in ("roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "roles/*/templates/*.j2", "playbooks/*.yml", "site.yml"):
        yield from sorted(ROOT.glob(pattern))


def unsafe_reads() -> list[str]:
    found = []
    names = bool_options()
    pattern = re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")
    for path in files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith("#"):
                continue
            for match in pattern.finditer(line):
                rest = line[match.end():]
                before = line[:match.start()]
                if re.match(r"\s*\|\s*(default\([^)]*\)\s*\|\s*)?bool\b", rest):
                    continue
                # `opt: "{{ name }}"` (a module's bool option converts it), or `name: "{{ other }}"` (a definition).
                if re.fullmatch(r"\s*[A-Za-z_][\w.]*:\s*\"\{\{\s*", before) and re.match(r"\s*\}\}\"\s*$", rest):
                    continue
                if re.fullmatch(r"\s*-?\s*", before) and rest.startswith(":"):
                    continue  # the variable defined (set_fact key, vars key)
                if re.match(r":\s*(false|true)\b", rest):
                    continue  # a message naming the setting ("yellow_x: false skips ...")
                found.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    return found


def test_every_boolean_read_uses_the_bool_filter():
    assert unsafe_reads() == []

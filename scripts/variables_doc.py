#!/usr/bin/env python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Generate docs/variables.md, the variables reference, from every role's meta/argument_specs.yml.

    python scripts/variables_doc.py           # write docs/variables.md
    python scripts/variables_doc.py --check   # exit 1 when docs/variables.md is out of date (a unit test runs this)
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Dict, List

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "variables.md"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    text = " ".join(str(value).split())
    text = re.sub(r"\b[CORVIM]\(([^()]*)\)", r"`\1`", text)  # ansible-doc markup: C(x), O(x), V(x)... -> `x`
    return text.replace("|", "\\|")


def _default(spec: Dict[str, Any]) -> str:
    if spec.get("required"):
        return "**required**"
    if "default" not in spec:
        return ""
    value = spec["default"]
    shown = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    if shown.endswith("\n..."):
        shown = shown[:-4].strip()
    shown = shown.removesuffix("...").strip()
    return f"`{shown}`" if len(shown) <= 60 else "see spec"


def _type(spec: Dict[str, Any]) -> str:
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        kind = f"list of {spec['elements']}"
    if spec.get("choices"):
        kind += " (" + ", ".join(str(c) for c in spec["choices"]) + ")"
    return kind


def render() -> str:
    lines: List[str] = [
        "# Variables reference",
        "",
        "Generated from each role's `meta/argument_specs.yml` by `python scripts/variables_doc.py`; do not edit by",
        "hand (a unit test fails when it is out of date). `ansible-doc -t role datasurface.yellow.<role>` shows the",
        "same with every option's full description. Values shared by several roles (`yellow_namespace`,",
        "`yellow_kubeconfig`, `yellow_psp_name`, ...) are set once in an inventory's `group_vars/all` and feed the",
        "roles' defaults.",
        "",
    ]
    for spec_file in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        role = spec_file.parent.parent.name
        entry_points = (yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}).get("argument_specs") or {}
        lines += [f"## Role `{role}`", ""]
        for entry, body in entry_points.items():
            body = body or {}
            title = _text(body.get("short_description"))
            lines += [f"### `{role}` entry point `{entry}`" + (f": {title}" if title else ""), ""]
            options = body.get("options") or {}
            if not options:
                lines += ["No variables.", ""]
                continue
            lines += ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
            for name, spec in options.items():
                spec = spec or {}
                lines.append(f"| `{name}` | {_type(spec)} | {_default(spec)} | {_text(spec.get('description'))} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--check", action="store_true", help="fail when docs/variables.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python scripts/variables_doc.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fail when a log contains any test secret defined in a scenario's YAML files.

usage: assert_no_secrets.py LOG DIR_OR_FILE [DIR_OR_FILE ...]

Secrets are the literal string values (no Jinja) of keys whose name contains `password`, `token`,
`secret` or `pat` in the YAML files given (directories are searched recursively).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SECRET_KEY = re.compile(r"(password|token|secret|(^|_)pat($|_))", re.IGNORECASE)


def secret_values(data: Any) -> Iterator[str]:
    """Yield literal secret values found anywhere in a YAML document."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and SECRET_KEY.search(key) and isinstance(value, str) and "{{" not in value:
                if len(value) >= 6:
                    yield value
            yield from secret_values(value)
    elif isinstance(data, list):
        for item in data:
            yield from secret_values(item)


def yaml_files(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
        else:
            yield path


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    log = Path(argv[1]).read_text(encoding="utf-8", errors="replace")
    secrets: set[str] = set()
    for path in yaml_files(argv[2:]):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            secrets.update(secret_values(document))
    if not secrets:
        print(f"assert_no_secrets: no test secrets found in {argv[2:]}; nothing to check", file=sys.stderr)
        return 2
    leaked = sorted(s for s in secrets if s in log)
    if leaked:
        print(f"assert_no_secrets: {len(leaked)} of {len(secrets)} test secrets appear in {argv[1]}", file=sys.stderr)
        return 1
    print(f"assert_no_secrets: none of {len(secrets)} test secrets appear in {argv[1]} ({len(log)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

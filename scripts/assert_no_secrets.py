"""Fail when a log contains a test secret, in plain form or encoded.

usage:
  assert_no_secrets.py LOG DIR_OR_FILE [DIR_OR_FILE ...]
  assert_no_secrets.py --log LOG [--log LOG ...] [--yaml DIR_OR_FILE ...] [--secrets-dir DIR ...]
                       [--users-from DIR_OR_FILE ...] [--user NAME ...]

Secrets come from
  --yaml (and the first form's DIR_OR_FILE): the literal string values (no Jinja) of keys whose name
      contains `password`, `token`, `secret` or `pat` in the YAML files given (directories searched
      recursively; the molecule scenarios);
  --secrets-dir: every file of the directory holds one secret, its first word (the lab's
      .lab/secrets, written by Ansible's password lookup).
User names (for the `user:password` forms) are the literal values of keys ending in `user` or
`username` in the --yaml and --users-from files, and each --user.

Each secret is looked for as: plain, JSON-escaped (quotes and backslashes as JSON output shows
them), base64, `user:secret` base64 for every user, and base64 of those base64 strings (a
dockerconfigjson inside a Secret's data). A base64 form is matched at any of the three alignments
it can have inside a longer base64 text, so an encoded blob that contains the secret is found too.
Prints `assert_no_secrets: 0 hits ...` and exits 0, or one line per hit (the secret's name and the
form, never the secret) and exits 1. Exits 2 when no secret was found to look for.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SECRET_KEY = re.compile(r"(password|token|secret|(^|_)pat($|_))", re.IGNORECASE)
USER_KEY = re.compile(r"(^|_)(user|username)$", re.IGNORECASE)
MIN_SECRET = 6
MIN_FRAGMENT = 8


def secret_values(data: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (key path, literal secret value) found anywhere in a YAML document."""
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and SECRET_KEY.search(key) and isinstance(value, str) and "{{" not in value:
                if len(value) >= MIN_SECRET:
                    yield where, value
            yield from secret_values(value, where)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from secret_values(item, f"{path}[{index}]")


def user_values(data: Any) -> Iterator[str]:
    """Yield literal user names (values of keys ending in user/username) in a YAML document."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and USER_KEY.search(key) and isinstance(value, str) and value and "{{" not in value:
                yield value
            yield from user_values(value)
    elif isinstance(data, list):
        for item in data:
            yield from user_values(item)


def yaml_files(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
        else:
            yield path


def yaml_documents(paths: list[str]) -> Iterator[tuple[Path, Any]]:
    for path in yaml_files(paths):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            yield path, document


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def b64_fragments(text: str) -> list[str]:
    """The parts of base64(text) that are the same wherever text starts in a longer encoded text:
    one per alignment (0, 1, 2 bytes before it), without the characters neighbouring bytes share."""
    raw = text.encode("utf-8")
    fragments = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw + b"\0" * 3).decode("ascii")
        start = -(-8 * offset // 6)  # first character made only of text's bits
        end = 8 * (offset + len(raw)) // 6  # after the last one
        fragment = encoded[start:end]
        if len(fragment) >= MIN_FRAGMENT:
            fragments.append(fragment)
    return fragments


def forms(secret: str, users: list[str]) -> list[tuple[str, str]]:
    """(form name, text to look for) for one secret."""
    found = [("plain", secret)]
    escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
    if escaped != secret:
        found.append(("json-escaped", escaped))
    encodings = [("base64", secret)] + [(f"base64 of {user}:password", f"{user}:{secret}") for user in users]
    for name, text in encodings:
        found.append((name, b64(text)))
        found.extend((name, fragment) for fragment in b64_fragments(text))
        found.extend((f"base64 of ({name})", fragment) for fragment in b64_fragments(b64(text)))
    return found


def scan(logs: dict[str, str], secrets: dict[str, str], users: list[str]) -> list[str]:
    """One line per (log, secret, form) found, naming the secret, never showing it."""
    hits = []
    for secret_name, secret in sorted(secrets.items()):
        for form, text in forms(secret, users):
            for log_name, log in logs.items():
                if text in log:
                    line = log.count("\n", 0, log.index(text)) + 1
                    hits.append(f"{log_name}:{line}: {secret_name} ({form})")
    return sorted(set(hits))


def parse_args(argv: list[str]) -> argparse.Namespace:
    if len(argv) >= 2 and not argv[1].startswith("-"):  # the molecule stage's form: LOG DIR_OR_FILE...
        if len(argv) < 3:
            print(__doc__, file=sys.stderr)
            sys.exit(2)
        return argparse.Namespace(log=[argv[1]], yaml=argv[2:], secrets_dir=[], users_from=[], user=[])
    parser = argparse.ArgumentParser(description="Fail when a log contains a test secret, plain or encoded.")
    parser.add_argument("--log", action="append", required=True, help="a log to scan (repeatable)")
    parser.add_argument("--yaml", action="append", default=[], help="YAML file or directory with test secrets")
    parser.add_argument("--secrets-dir", action="append", default=[], help="directory of one-secret files")
    parser.add_argument("--users-from", action="append", default=[], help="YAML file or directory with user names")
    parser.add_argument("--user", action="append", default=[], help="a user name for the user:password forms")
    return parser.parse_args(argv[1:])


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    secrets: dict[str, str] = {}
    users = set(args.user)
    for path, document in yaml_documents(args.yaml):
        secrets.update((f"{path}: {where}", value) for where, value in secret_values(document))
        users.update(user_values(document))
    for path, document in yaml_documents(args.users_from):
        users.update(user_values(document))
    for directory in args.secrets_dir:
        if not Path(directory).is_dir():
            print(f"assert_no_secrets: {directory} is not a directory", file=sys.stderr)
            return 2
        for path in sorted(Path(directory).iterdir()):
            words = path.read_text(encoding="utf-8").split() if path.is_file() else []
            if words and len(words[0]) >= MIN_SECRET:
                secrets[str(path)] = words[0]
    sources = args.yaml + args.secrets_dir
    if not secrets:
        print(f"assert_no_secrets: no test secrets found in {sources}; nothing to check", file=sys.stderr)
        return 2
    logs = {name: Path(name).read_text(encoding="utf-8", errors="replace") for name in args.log}
    hits = scan(logs, secrets, sorted(users))
    size = sum(len(text) for text in logs.values())
    summary = (f"{len(secrets)} secrets ({len(users)} user names for user:password forms) in {len(logs)} log(s), "
               f"{size} bytes")
    if hits:
        for hit in hits:
            print(f"assert_no_secrets: HIT {hit}", file=sys.stderr)
        print(f"assert_no_secrets: {len(hits)} hits: {summary}", file=sys.stderr)
        return 1
    print(f"assert_no_secrets: 0 hits: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

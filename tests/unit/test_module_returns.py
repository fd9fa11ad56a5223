# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""No module of the collection returns a top-level ``results`` key.

ansible-core 2.19 takes a task result's top-level ``results`` list for a loop's item results: under
``no_log`` it censors only those items that carry ``_ansible_no_log`` (a module's own list items never
do, so they are printed in full), and a ``failed`` item fails the task. A module that returns a list of
answers names it otherwise (k8s_read: ``answers``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))


def _return_doc(path: Path) -> dict:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RETURN" for t in node.targets):
            return yaml.safe_load(node.value.value) or {}
    raise AssertionError(f"{path.name}: no RETURN")


def _keyword_names(path: Path, functions: tuple) -> set:
    """Keyword names passed to exit_json/fail_json anywhere in the module."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in functions:
            names.update(k.arg for k in node.keywords if k.arg)
    return names


@pytest.mark.parametrize("path", MODULES, ids=[p.stem for p in MODULES])
def test_no_top_level_results(path: Path) -> None:
    assert "results" not in _return_doc(path)
    assert "results" not in _keyword_names(path, ("exit_json", "fail_json"))


def test_k8s_read_returns_answers() -> None:
    path = ROOT / "plugins" / "modules" / "k8s_read.py"
    assert "answers" in _return_doc(path)
    assert _keyword_names(path, ("exit_json", "fail_json")) == {"msg", "changed", "answers", "exception"}

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Every variable a role defines carries the role's prefix.

ansible-lint's var-naming[no-role-prefix] wants the role *directory* name as prefix
(``postgres_host_*``); this collection's convention is the short platform prefix (``yellow_pg_*``),
so that rule is skipped in .ansible-lint and enforced here instead. Internal variables use the same
prefix with two leading underscores. Covered: defaults, vars, argument specs, and in tasks/handlers
every ``set_fact`` key, ``register`` name and task/block ``vars`` key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"

ROLE_PREFIXES = {
    "postgres_host": "yellow_pg_",
    "node_prep": "yellow_node_",
    "platform_prereqs": "yellow_k8s_",
    "airflow": "yellow_airflow_",
    "bootstrap": "yellow_bootstrap_",
    "preflight": "yellow_preflight_",
    "verify": "yellow_verify_",
    "operations": "yellow_ops_",
}

SET_FACT = {"ansible.builtin.set_fact", "set_fact"}


def role_dirs():
    return sorted(p for p in ROLES.iterdir() if p.is_dir())


def _tasks(items):
    for item in items or []:
        if not isinstance(item, dict):
            continue
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key))


def defined_names(role: Path):
    """(where, name) for every variable the role defines."""
    for sub in ("defaults", "vars"):
        for path in sorted((role / sub).glob("*.yml")):
            for name in (yaml.safe_load(path.read_text()) or {}):
                yield f"{path.relative_to(ROOT)}", name
    specs = role / "meta" / "argument_specs.yml"
    if specs.exists():
        for entry, spec in yaml.safe_load(specs.read_text())["argument_specs"].items():
            for name in spec.get("options", {}):
                yield f"{specs.relative_to(ROOT)} ({entry})", name
    for sub in ("tasks", "handlers"):
        for path in sorted((role / sub).glob("*.yml")):
            for task in _tasks(yaml.safe_load(path.read_text())):
                where = f"{path.relative_to(ROOT)}: {task.get('name', '?')}"
                for module in SET_FACT & task.keys():
                    for name in task[module] or {}:
                        if name != "cacheable":
                            yield where, name
                if "register" in task:
                    yield where, task["register"]
                # Inputs handed to another of this collection's roles (include_role/import_role vars) carry
                # that role's prefix, not this one's.
                called = (task.get("ansible.builtin.include_role") or task.get("ansible.builtin.import_role") or {})
                called_prefix = ROLE_PREFIXES.get(str(called.get("name", "")).rpartition(".")[2]) if called else None
                for name in task.get("vars") or {}:
                    if called_prefix and name.startswith(called_prefix):
                        continue
                    yield where, name


def test_every_role_has_a_prefix():
    unknown = [r.name for r in role_dirs() if r.name not in ROLE_PREFIXES]
    assert not unknown, f"add the variable prefix of these roles to ROLE_PREFIXES: {unknown}"


@pytest.mark.parametrize("role", role_dirs(), ids=lambda p: p.name)
def test_role_variables_carry_the_role_prefix(role):
    prefix = ROLE_PREFIXES.get(role.name)
    if prefix is None:
        pytest.skip("no prefix registered")
    wrong = [
        f"{where}: {name}"
        for where, name in defined_names(role)
        if not (name.startswith(prefix) or name.startswith("__" + prefix))
    ]
    assert not wrong, f"variables without the {prefix!r} prefix:\n" + "\n".join(wrong)


def test_the_check_sees_the_postgres_host_variables():
    names = {name for _where, name in defined_names(ROLES / "postgres_host")}
    assert {"yellow_pg_hba_cidrs", "yellow_pg_users", "__yellow_pg_settings", "__yellow_pg_user_names"} <= names

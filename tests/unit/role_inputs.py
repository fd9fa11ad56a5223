# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A role's variables as a play sees them: its defaults/main.yml templated by Ansible, under an inventory.

The unit tests of the input layer feed these to ``inputs.check_role`` so that they exercise the
real defaults (cross-references such as ``yellow_bootstrap_dag_repo: "{{ yellow_airflow_git_repo }}"``
included), not a hand-written copy of them.
"""

from __future__ import annotations

from typing import Any, Mapping

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from ansible_collections.datasurface.yellow.plugins.plugin_utils import inputs

ROLES = ("postgres_host", "node_prep", "platform_prereqs", "airflow", "bootstrap", "verify", "operations", "preflight")


def role_values(role: str, inventory: Mapping[str, Any] | None = None, entry_point: str = "main",
                defaults_from: tuple[str, ...] = ROLES) -> dict[str, Any]:
    """Every option of the entry point, from the inventory or else the roles' defaults, templated."""
    # Lookups need the plugin loader, which unit tests do not set up: the one default that uses one
    # (yellow_bootstrap_workdir, from $HOME) is given here.
    available: dict[str, Any] = {"inventory_hostname": "host-1", "playbook_dir": "/tmp/playbooks"}
    for name in defaults_from:
        available.update(inputs.trusted(inputs.role_defaults(name)))
    available["yellow_bootstrap_workdir"] = "/tmp/datasurface-bootstrap"
    available.update(inputs.trusted(dict(inventory or {})))
    templar = Templar(loader=DataLoader(), variables=available)
    values = {}
    for name in inputs.role_spec(role, entry_point):
        if name in available:
            try:
                values[name] = templar.template(available[name])
            except Exception as exc:  # pylint: disable=broad-except  # as the action plugin does
                values[name] = f"<< error 0 - {exc} >>"
    return values

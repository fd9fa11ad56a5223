# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Action for datasurface.yellow.check_inputs (documented in plugins/modules/check_inputs.py)."""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.datasurface.yellow.plugins.plugin_utils import inputs

ARGUMENT_SPEC = {
    "role": {"type": "str", "required": True},
    "entry_point": {"type": "str", "default": "main"},
    "os_family": {"type": "str"},
    "defaults_from": {"type": "list", "elements": "str", "default": []},
    "example_passwords": {"type": "str", "choices": ["skip", "refuse", "allow"], "default": "skip"},
    "fail": {"type": "bool", "default": True},
}


class ActionModule(ActionBase):
    """Evaluate a role's variables one by one and run the input validation layer on them."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def _defaults(self, roles: list[str]) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for role in roles:
            path = os.path.join(inputs.collection_root(), "roles", role, "defaults", "main.yml")
            if not os.path.isfile(path):
                raise AnsibleActionFail(f"check_inputs: defaults_from names {role!r}, which has no defaults/main.yml")
            # Role defaults are templates the role's author wrote: trusted, as when the role itself runs.
            merged.update(inputs.trusted(self._loader.load_from_file(path) or {}))
        return merged

    def _evaluate(self, names: list[str], task_vars: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
        available = dict(defaults)
        available.update(task_vars)
        templar = self._templar.copy_with_new_env(available_variables=available)
        values: dict[str, Any] = {}
        for name in names:
            if name not in available:
                continue
            try:
                values[name] = templar.template(available[name])
            except Exception as exc:  # pylint: disable=broad-except  # any template failure is a finding
                why = " ".join(str(getattr(exc, "message", exc)).split())
                values[name] = f"<< error 0 - {why[:300]} >>"
        return values

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        del tmp
        validation = ArgumentSpecValidator(ARGUMENT_SPEC).validate(dict(self._task.args))
        if validation.error_messages:
            raise AnsibleActionFail(f"check_inputs: {'; '.join(validation.error_messages)}")
        args = validation.validated_parameters
        role, entry_point = args["role"], args["entry_point"]
        try:
            spec = inputs.role_spec(role, entry_point)
            defaults = self._defaults(args["defaults_from"])
        except ValueError as exc:
            raise AnsibleActionFail(f"check_inputs: {exc}") from None
        values = self._evaluate(sorted(spec), task_vars, defaults)
        problems, summary = inputs.check_role(role, values, entry_point, os_family=args["os_family"],
                                              example_passwords=args["example_passwords"], spec=spec)
        result.update(changed=False, problems=problems, checked=len(spec), summary=summary)
        if problems and args["fail"]:
            where = role if entry_point == "main" else f"{role} ({entry_point})"
            result["failed"] = True
            result["msg"] = f"{where}: {len(problems)} input problem(s): " + " | ".join(problems)
        else:
            result["msg"] = f"{role}: {len(spec)} inputs checked, {len(problems)} problem(s)"
        return result

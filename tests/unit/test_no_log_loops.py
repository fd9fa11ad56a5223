# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Every loop whose items carry a secret is no_log.

Ansible prints each loop item at -v (a skipped item too, in full, unless the task is no_log), so a
loop over registry entries prints their passwords. This test parses every task file (roles' tasks
and handlers, playbooks, site.yml, the lab's playbooks) and fails for a task that loops over an
expression naming a secret-carrying variable without ``no_log: true``, or whose
``loop_control.label`` names a secret.

Secret-carrying variables are: the options of the roles' argument specs that are ``no_log`` or have
a suboption named ``password``/``token`` or marked ``no_log`` (``yellow_node_registries``,
``yellow_pg_users``, ...); the ones listed below; any lower-case name containing password, token,
secret or credential (so a template ``secrets.yml.j2`` or a ``__yellow_x_secrets`` fact), except
the names in NOT_SECRET; and the registered results of tasks that loop over any of them.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# Secret-carrying variables whose argument spec does not say so by itself.
LISTED = {
    "yellow_node_registries": "entries carry password",
    "yellow_pg_users": "entries carry password",
    "yellow_k8s_secrets_extra": "entries carry data: the secret values",
}
# Names that match the secret pattern but hold no secret.
NOT_SECRET = {
    "yellow_k8s_secret_reader_components": "Airflow component names",
}
SECRET_WORD = re.compile(r"[a-z0-9_]*(password|passwd|token|secret|credential)[a-z0-9_]*")
LOOP_KEYS = re.compile(r"^(loop|with_[a-z_]+)$")


class _Loader(yaml.SafeLoader):
    """SafeLoader that accepts Ansible's tags (!vault, !unsafe) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                              if isinstance(node, yaml.ScalarNode) else None)


def task_files():
    patterns = ["roles/*/tasks/*.yml", "roles/*/handlers/*.yml", "playbooks/*.yml", "site.yml",
                "tests/lab/*.yml", "tests/lab/tasks/*.yml"]
    files = sorted({p for pattern in patterns for p in ROOT.glob(pattern)})
    assert len(files) > 30, files
    return files


def tasks_in(entries):
    """Every task in a task list or playbook, blocks and plays walked."""
    for entry in entries or []:
        if not isinstance(entry, dict):
            continue
        if "hosts" in entry:  # a play
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from tasks_in(entry.get(key))
            continue
        yield entry
        for key in ("block", "rescue", "always"):
            yield from tasks_in(entry.get(key))


def spec_secret_variables():
    """Options of the roles' argument specs that are no_log or carry a password/token suboption."""

    def carries_secret(option):
        for name, sub in (option.get("options") or {}).items():
            if name in ("password", "token") or sub.get("no_log") or carries_secret(sub):
                return True
        return False

    names = set()
    for spec in ROOT.glob("roles/*/meta/argument_specs.yml"):
        for entry in (yaml.load(spec.read_text(encoding="utf-8"), Loader=_Loader)["argument_specs"] or {}).values():
            for name, option in (entry.get("options") or {}).items():
                if option.get("no_log") or carries_secret(option):
                    names.add(name)
    return names


def text_of(value):
    """The text to look for secret names in: a string as is; of a literal list or mapping its keys
    and templated strings (a literal item such as a directory named ``secrets`` names nothing)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(str(key) + " " + text_of(item) for key, item in value.items())
    if isinstance(value, list):
        return " ".join(text_of(item) if not isinstance(item, str) or "{{" in item else "" for item in value)
    return json.dumps(value, default=str)


def secret_names(text, secrets):
    return sorted({word for word in re.findall(r"\w+", text)
                   if word in secrets or (SECRET_WORD.fullmatch(word) and word not in NOT_SECRET)})


def loop_of(task):
    for key, value in task.items():
        if LOOP_KEYS.match(str(key)):
            return text_of(value)
    return None


def is_no_log(task):
    return task.get("no_log") in (True, "true", "True", "yes")


def problems(files, base_secrets):
    """(problems, secrets): a message per offending task, and the secret names in the end."""
    parsed = {path: list(tasks_in(yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader))) for path in files}
    secrets = set(base_secrets)
    while True:  # registered results of secret loops carry the items: secret too
        grown = {task["register"] for tasks in parsed.values() for task in tasks
                 if task.get("register") and loop_of(task) and secret_names(loop_of(task), secrets)}
        if grown <= secrets:
            break
        secrets |= grown
    found = []
    for path, tasks in parsed.items():
        for task in tasks:
            loop = loop_of(task)
            if loop is None:
                continue
            where = "%s: %r" % (path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, task.get("name"))
            named = secret_names(loop, secrets)
            if named and not is_no_log(task):
                found.append("%s loops over %s without no_log: true" % (where, ", ".join(named)))
            label = (task.get("loop_control") or {}).get("label")
            if label is not None and secret_names(text_of(label), secrets | {"password", "token"}):
                found.append("%s: loop_control.label names a secret: %s" % (where, label))
    return found, secrets


def test_every_loop_over_a_secret_is_no_log():
    found, _secrets = problems(task_files(), spec_secret_variables() | set(LISTED))
    assert found == [], "\n".join(found)


def test_the_argument_specs_name_the_secret_carrying_lists():
    derived = spec_secret_variables()
    assert {"yellow_node_registries", "yellow_pg_users", "yellow_k8s_registry_password",
            "yellow_k8s_git_token", "yellow_airflow_db_password"} <= derived, sorted(derived)


@pytest.mark.parametrize(
    "task, expected",
    [
        ({"name": "t", "ansible.builtin.debug": {"msg": "x"}, "loop": "{{ yellow_node_registries }}",
          "loop_control": {"label": "{{ item.host }}"}}, "loops over yellow_node_registries without no_log: true"),
        ({"name": "t", "ansible.builtin.debug": {"msg": "x"}, "with_items": "{{ yellow_pg_users | selectattr('name') }}"},
         "loops over yellow_pg_users without no_log: true"),
        ({"name": "t", "kubernetes.core.k8s": {"definition": "{{ item }}"},
          "loop": "{{ lookup('ansible.builtin.template', 'secrets.yml.j2') | from_yaml_all | list }}"},
         "loops over secrets without no_log: true"),
        ({"name": "t", "ansible.builtin.debug": {"msg": "x"}, "loop": "{{ yellow_node_registries }}", "no_log": True,
          "loop_control": {"label": "{{ item.host }}:{{ item.password }}"}}, "loop_control.label names a secret"),
        ({"name": "t", "ansible.builtin.debug": {"msg": "x"}, "loop": "{{ __reg.results }}"},
         "loops over __reg without no_log: true"),
        ({"name": "t", "ansible.builtin.debug": {"msg": "x"}, "loop": [{"host": "h", "password": "{{ vault_x }}"}]},
         "loops over password without no_log: true"),
    ],
    ids=["registries", "with_items", "rendered-secrets", "label", "registered-results", "literal-list"],
)
def test_the_check_finds(tmp_path, task, expected):
    registered = {"name": "r", "ansible.builtin.debug": {"msg": "x"}, "loop": "{{ yellow_node_registries }}",
                  "no_log": True, "register": "__reg"}
    path = tmp_path / "tasks.yml"
    path.write_text(yaml.safe_dump([registered, {"name": "b", "block": [task]}]))
    found, _secrets = problems([path], {"yellow_node_registries", "yellow_pg_users"})
    assert len(found) == 1 and expected in found[0], found


def test_the_check_passes_no_log_loops_and_loops_without_secrets(tmp_path):
    path = tmp_path / "tasks.yml"
    path.write_text(yaml.safe_dump([
        {"name": "a", "ansible.builtin.debug": {"msg": "x"}, "loop": "{{ yellow_node_registries }}", "no_log": True,
         "loop_control": {"label": "{{ item.host }}"}},
        {"name": "b", "ansible.builtin.debug": {"msg": "x"}, "loop": "{{ kinds | reject('eq', 'Secret') | list }}"},
        {"name": "c", "ansible.builtin.debug": {"msg": "x"}, "loop": "{{ yellow_k8s_secret_reader_components }}"},
        {"name": "d", "ansible.builtin.file": {"path": "{{ item }}"}, "loop": ["k8s", "secrets"]},
    ]))
    assert problems([path], {"yellow_node_registries"})[0] == []


# The CI sweep of the -vvv logs (scripts/assert_no_secrets.py): every form of a secret is found.
def _sweep():
    import importlib.util  # pylint: disable=import-outside-toplevel

    spec = importlib.util.spec_from_file_location("assert_no_secrets", ROOT / "scripts" / "assert_no_secrets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LAB_SECRET = "Zq8rT2vLw0XyA9bC4dE6fG1hJ3kM5nP7"


@pytest.mark.parametrize(
    "render, form",
    [
        (lambda s: "ok: [h] => msg: " + s, "plain"),
        (lambda s: "data: " + base64.b64encode(s.encode()).decode(), "base64"),
        (lambda s: "auth: " + base64.b64encode(("yellow-puller:" + s).encode()).decode(), "base64 of yellow-puller:password"),
        # a dockerconfigjson inside a Secret's data: the auth field base64 inside base64
        (lambda s: ".dockerconfigjson: " + base64.b64encode(json.dumps({"auths": {"r": {"auth": base64.b64encode(
            ("yellow-bot:" + s).encode()).decode()}}}).encode()).decode(), "base64 of (base64 of yellow-bot:password)"),
        (lambda s: "stdout: " + json.dumps({"v": s + '"q'}), "plain"),
    ],
    ids=["plain", "base64", "user-password", "nested", "json"],
)
def test_the_sweep_finds_every_form(tmp_path, capsys, render, form):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "registry").write_text(LAB_SECRET + "\n")
    log = tmp_path / "run.log"
    log.write_text("line one\n" + render(LAB_SECRET) + "\n")
    rc = _sweep().main(["x", "--secrets-dir", str(tmp_path / "secrets"), "--user", "yellow-puller", "--user", "yellow-bot",
                        "--log", str(log)])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert f"{log}:2: {tmp_path / 'secrets' / 'registry'} ({form})" in err
    assert LAB_SECRET not in err


def test_the_sweep_reports_0_hits(tmp_path, capsys):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "registry").write_text(LAB_SECRET + "\n")
    (tmp_path / "vars.yml").write_text("yellow_lab_registry_user: yellow-puller\nvault_yellow_git_username: yellow-bot\n")
    log = tmp_path / "run.log"
    log.write_text("ok: [h] => (item=(censored due to no_log))\n" * 50)
    rc = _sweep().main(["x", "--secrets-dir", str(tmp_path / "secrets"), "--users-from", str(tmp_path), "--log", str(log)])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.startswith("assert_no_secrets: 0 hits: 1 secrets (2 user names for user:password forms) in 1 log(s), ")


def test_the_sweep_keeps_the_molecule_form(tmp_path, capsys):
    (tmp_path / "vars.yml").write_text("yellow_molecule_registry_password: 'Reg \"pw\"; x 7f2e'\nother: {api_token: tok-123456}\n")
    log = tmp_path / "molecule.log"
    log.write_text("password: Reg \\\"pw\\\"; x 7f2e\n")
    assert _sweep().main(["x", str(log), str(tmp_path)]) == 1
    assert "vars.yml: yellow_molecule_registry_password (json-escaped)" in capsys.readouterr().err
    log.write_text("nothing\n")
    assert _sweep().main(["x", str(log), str(tmp_path)]) == 0

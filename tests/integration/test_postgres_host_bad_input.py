# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""postgres_host refuses bad input before it changes anything, naming the variable.

Every case runs ``ansible-playbook -v playbooks/postgres.yml`` against one fresh lab container
(the debootstrapped base image, nothing installed). Each run must fail in the role's input check
with a message naming the variable, report ``changed=0``, and never print a password. After all
cases the container must still have no PostgreSQL: nothing was installed, so no SQL can have run
from a hostile name. Hostile database and user names are *refused* (not quoted and created).
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("YELLOW_LAB_IMAGE", "localhost/datasurface-yellow-lab/bookworm:latest")
PASSWORD_DT = "Bad-input pw 'dt'; $(id) 9f3c"
PASSWORD_MASK = 'mask "pw"; DROP ROLE x; -- 71aa'

GOOD_USERS = [
    {"name": "datasurfacedt", "password": PASSWORD_DT},
    {"name": "mask_dt_cred", "password": PASSWORD_MASK},
]

pytestmark = pytest.mark.skipif(
    subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode != 0,
    reason=f"lab image {IMAGE} missing (tests/lab/build_base_image.sh builds it)",
)


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], check=check, capture_output=True, text=True)


@pytest.fixture(scope="module")
def fresh_host():
    name = f"yellow-it-pg-{uuid.uuid4().hex[:8]}"
    podman("run", "-d", "--name", name, "--hostname", name, "--label", "datasurface.yellow/test=true", IMAGE, "sleep", "infinity")
    try:
        yield name
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)


@pytest.fixture(scope="module")
def redhat_host():
    """A host whose facts say RedHat family (an /etc/redhat-release file wins in distribution detection)."""
    name = f"yellow-it-rh-{uuid.uuid4().hex[:8]}"
    podman("run", "-d", "--name", name, "--hostname", name, "--label", "datasurface.yellow/test=true", IMAGE, "sleep", "infinity")
    try:
        podman("exec", name, "sh", "-c", "echo 'Rocky Linux release 9.4 (Blue Onyx)' > /etc/redhat-release")
        yield name
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)


def run_role(host: str, tmp_path: Path, extra: dict, cli: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    inventory = {
        "all": {
            "vars": {"ansible_connection": "containers.podman.podman", "ansible_python_interpreter": "/usr/bin/python3"},
            "children": {"postgres": {"hosts": {host: {}}}},
        }
    }
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    extra_vars = tmp_path / "vars.yml"
    extra_vars.write_text(yaml.safe_dump({"yellow_pg_users": GOOD_USERS, **extra}))
    extra_vars.chmod(0o600)
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    return subprocess.run(
        ["ansible-playbook", "-v", "-i", str(tmp_path / "hosts.yml"), "-e", f"@{extra_vars}",
         *[arg for pair in cli for arg in ("-e", pair)], str(ROOT / "playbooks" / "postgres.yml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=600,
    )


def recap(output: str, host: str) -> dict[str, int]:
    match = re.search(rf"^{re.escape(host)}\s*:\s*(.*)$", output, re.MULTILINE)
    assert match, f"no PLAY RECAP line for {host}:\n{output[-3000:]}"
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


def assert_refused(result: subprocess.CompletedProcess, host: str, *fragments: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    counts = recap(output, host)
    assert counts["failed"] == 1 and counts["changed"] == 0, counts
    failed_task = re.findall(r"^TASK \[(.*?)\]", output.split("fatal:")[0], re.MULTILINE)[-1]
    # The input check, or (for a type the spec cannot convert) ansible-core's own validation of the same spec.
    assert failed_task.endswith(("Check the PostgreSQL host inputs", "Validating arguments against arg spec 'main' - "
                                 "Prepare the PostgreSQL host of a DataSurface YellowDataPlatform")), failed_task
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in output:\n{output[-3000:]}"
    for secret in (PASSWORD_DT, PASSWORD_MASK, "9f3c", "71aa"):
        assert secret not in output


BAD_INPUTS = {
    "malformed-cidr": ({"yellow_pg_hba_cidrs": ["10.244.0.0/16", "10.300.0.0/16"]}, ["yellow_pg_hba_cidrs[1]", "not a valid CIDR"]),
    "host-bits-cidr": ({"yellow_pg_hba_cidrs": ["10.244.1.7/16"]}, ["yellow_pg_hba_cidrs[0]", "host bits set"]),
    "trust": ({"yellow_pg_hba_method": "trust"}, ["yellow_pg_hba_method", "'trust' is refused", "yellow_pg_allow_weak_auth"]),
    "md5": ({"yellow_pg_hba_method": "md5"}, ["yellow_pg_hba_method", "'md5' is refused"]),
    # An opt-in given as a string that means false (YAML quoted, as `-e x=false` always is) stays off.
    "trust-opt-in-string-false": ({"yellow_pg_hba_method": "trust", "yellow_pg_allow_weak_auth": "false"},
                                  ["yellow_pg_hba_method", "'trust' is refused", "yellow_pg_allow_weak_auth"]),
    "trust-opt-in-string-no": ({"yellow_pg_hba_method": "trust", "yellow_pg_allow_weak_auth": "no"},
                               ["yellow_pg_hba_method", "'trust' is refused"]),
    "any-source-opt-in-string-0": ({"yellow_pg_hba_cidrs": ["0.0.0.0/0"], "yellow_pg_allow_any_source": "0"},
                                   ["yellow_pg_hba_cidrs[0]", "yellow_pg_allow_any_source"]),
    "opt-in-not-a-boolean": ({"yellow_pg_hba_method": "trust", "yellow_pg_allow_weak_auth": "maybe"},
                             ["yellow_pg_allow_weak_auth", "'maybe' is not a valid boolean"]),
    "cidrs-as-a-string": ({"yellow_pg_hba_cidrs": "10.42.0.0/16,10.43.0.0/16"},
                          ["yellow_pg_hba_cidrs: must be a list", "not the string '10.42.0.0/16,10.43.0.0/16'"]),
    "port-not-a-number": ({"yellow_pg_port": "abc"}, ["yellow_pg_port", "abc"]),
    "any-source": ({"yellow_pg_hba_cidrs": ["0.0.0.0/0"]}, ["yellow_pg_hba_cidrs[0]", "yellow_pg_allow_any_source"]),
    "empty-password": (
        {"yellow_pg_users": [{"name": "datasurfacedt", "password": ""}, GOOD_USERS[1]]},
        ["yellow_pg_users[0].password (datasurfacedt)", "must be a non-empty string"],
    ),
    "db-name-quote-semicolon": (
        {"yellow_pg_databases": [{"name": "x\"; DROP DATABASE customer_db; --"}, {"name": "merge_db_af3"}]},
        ["yellow_pg_databases[0].name", "quotes, semicolons and spaces are refused"],
    ),
    "db-name-space": (
        {"yellow_pg_databases": [{"name": "merge db"}, {"name": "merge_db_af3"}]},
        ["yellow_pg_databases[0].name"],
    ),
    "user-name-quote": (
        {"yellow_pg_users": [{"name": "dt'; ALTER ROLE postgres PASSWORD 'x", "password": PASSWORD_DT}, GOOD_USERS[1]],
         "yellow_pg_database_owner": "mask_dt_cred"},
        ["yellow_pg_users[0].name", "quotes, semicolons and spaces are refused"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_is_refused_before_any_change(case, fresh_host, tmp_path):
    extra, fragments = BAD_INPUTS[case]
    assert_refused(run_role(fresh_host, tmp_path, extra), fresh_host, *fragments)


@pytest.mark.parametrize("pair", ["yellow_pg_allow_weak_auth=false", "yellow_pg_allow_weak_auth=no",
                                  "yellow_pg_allow_weak_auth=0"])
def test_command_line_false_keeps_the_opt_in_off(pair, fresh_host, tmp_path):
    """`-e name=false` on the command line is the string "false": the trust method is still refused."""
    result = run_role(fresh_host, tmp_path, {"yellow_pg_hba_method": "trust"}, cli=(pair,))
    assert_refused(result, fresh_host, "yellow_pg_hba_method", "'trust' is refused", "yellow_pg_allow_weak_auth")


def test_unsupported_os_family_is_refused(redhat_host, tmp_path):
    result = run_role(redhat_host, tmp_path, {})
    assert_refused(result, redhat_host, "ansible_facts.os_family", "'RedHat' is not supported by postgres_host")


def test_the_host_is_still_untouched(fresh_host):
    """Runs last in this module: after every refused run, no package, config or server exists."""
    dpkg = podman("exec", fresh_host, "dpkg-query", "-W", "-f=${Status}\\n", "postgresql-15", "python3-psycopg2", check=False)
    assert "install ok installed" not in dpkg.stdout
    assert podman("exec", fresh_host, "test", "-e", "/etc/postgresql", check=False).returncode != 0

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""datasurface_bootstrap for real: ansible-playbook runs the module against the stand-in generator
(tests/generator_stub), as a process on the control node (runner=python, PYTHONPATH through
plain_environment) and in its podman image (runner=container; skipped when podman cannot run containers).

Covered for both runners: first run adds files (sha256 as on disk, jobs, DAG files, resources), a second
run changes nothing, a model change changes only the DAG file, check mode reports without writing, an
unknown PSP and a model that does not load fail clearly, an older generator rejects rte_name clearly and
works without it, the working directory's eco.py is not loaded, and a secret environment value shows up
neither in the -v output nor in any command line. Container only: a timeout kills the container; a
non-root container user's files are read and cleaned up.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STUB = ROOT / "tests" / "generator_stub"
PLAYBOOK = ROOT / "tests" / "integration" / "playbooks" / "datasurface_bootstrap_run.yml"
BASE_IMAGE = os.environ.get("YELLOW_LAB_IMAGE", "localhost/datasurface-yellow-lab/bookworm:latest")
SECRET = "ds-t0ken 'x'; $(id) 5b7c9e"
FILES = ["kubernetes-bootstrap.yaml", "test_dp_infrastructure_dag.py", "test_dp_model_merge_job.yaml",
         "test_dp_reconcile_views_job.yaml", "test_dp_ring1_init_job.yaml"]
DAG = "test_dp_infrastructure_dag.py"


def run_module(tmp_path: Path, options: dict, *flags: str, cwd: Path | None = None, path_prefix: str | None = None) -> tuple:
    """ansible-playbook -v the module with ``options``; returns (rc, output, registered result).

    With ``cwd``, ansible-playbook and the module run in that directory (the module's working directory is the
    playbook's: the playbook is copied there).
    """
    run_id = uuid.uuid4().hex[:8]
    result_file = tmp_path / f"result-{run_id}.json"
    vars_file = tmp_path / f"vars-{run_id}.json"
    vars_file.write_text(json.dumps({"yellow_test_bootstrap": options, "yellow_test_result_out": str(result_file)}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
               ANSIBLE_FORCE_COLOR="false", ANSIBLE_NOCOLOR="1")
    if path_prefix:
        env["PATH"] = path_prefix + os.pathsep + env["PATH"]
    playbook = PLAYBOOK
    if cwd is not None:
        # ansible-playbook runs local modules from the playbook's directory: put a copy of it there.
        playbook = cwd / PLAYBOOK.name
        shutil.copy(PLAYBOOK, playbook)
    completed = subprocess.run(
        ["ansible-playbook", "-v", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
         "-e", f"@{vars_file}", *flags, str(playbook)],
        capture_output=True, text=True, cwd=cwd or ROOT, env=env, check=False, timeout=300)
    output = completed.stdout + completed.stderr
    result = json.loads(result_file.read_text()) if result_file.exists() else {}
    return completed.returncode, output, result


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_model(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(STUB / "model", model, ignore=shutil.ignore_patterns("__pycache__"))
    return model


def scratch_of(result: dict) -> Path:
    """The module's temporary directory, from the command it ran."""
    joined = " ".join(result["command"])
    return Path(re.search(r"(/\S*/yellow-bootstrap-[^/\s]+)/", joined).group(1))


class Runner:
    """Options for one runner; the container one is a fixture, as it needs the image."""

    def __init__(self, name: str, options: dict):
        self.name = name
        self.options = options

    def opts(self, model: Path, output: Path, **extra) -> dict:
        options = dict(self.options, model_dir=str(model), output_dir=str(output), psp="Test_DP", rte_name="prod")
        plain = dict(options.get("plain_environment", {}), **extra.pop("plain_environment", {}))
        if plain:
            options["plain_environment"] = plain
        options.update(extra)
        return {key: value for key, value in options.items() if value is not None}


PYTHON = Runner("python", {"runner": "python", "python": sys.executable, "plain_environment": {"PYTHONPATH": str(STUB / "src")}})


def podman_problem() -> str | None:
    if shutil.which("podman") is None:
        return "podman is not installed"
    if subprocess.run(["podman", "image", "exists", BASE_IMAGE], check=False).returncode != 0:
        return f"lab image {BASE_IMAGE} missing (tests/lab/build_base_image.sh builds it)"
    probe = subprocess.run(["podman", "run", "--rm", "--network=none", BASE_IMAGE, "true"], capture_output=True, text=True,
                           check=False, timeout=120)
    if probe.returncode != 0:
        return "podman cannot run containers here: " + (probe.stderr.strip().splitlines() or ["?"])[-1]
    return None


@pytest.fixture(scope="module")
def container_runner():
    problem = podman_problem()
    if problem:
        pytest.skip(problem)
    build = subprocess.run([str(ROOT / "tests" / "lab" / "build_generator_image.sh")], capture_output=True, text=True, check=False,
                           timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    image = subprocess.run([str(ROOT / "tests" / "lab" / "build_generator_image.sh"), "--print-name"], capture_output=True,
                           text=True, check=True).stdout.strip()
    return Runner("container", {"runner": "container", "engine": "podman", "image": image, "pull": "never", "python": "python3"})


@pytest.fixture(params=["python", "container"])
def runner(request):
    if request.param == "python":
        return PYTHON
    return request.getfixturevalue("container_runner")


# --- both runners --------------------------------------------------------------------------------

def test_generate_then_idempotent_then_only_the_dag_changes(runner, tmp_path):
    model, out = copy_model(tmp_path), tmp_path / "out"
    target = out / "Test_DP"

    rc, output, first = run_module(tmp_path, runner.opts(model, out))
    assert rc == 0, output[-4000:]
    assert first["changed"] is True and first["output_path"] == str(target)
    assert [f["name"] for f in first["files"]] == FILES and {f["status"] for f in first["files"]} == {"added"}
    for entry in first["files"]:
        assert entry["path"] == str(target / entry["name"])
        assert entry["sha256"] == sha256(target / entry["name"]) and entry["size"] == (target / entry["name"]).stat().st_size
    assert sorted(os.listdir(target)) == FILES
    assert [(j["role"], j["name"], j["namespace"]) for j in sorted(first["jobs"], key=lambda j: j["role"])] == [
        ("model_merge", "test-dp-model-merge-job", "demo1"), ("reconcile_views", "test-dp-reconcile-views-job", "demo1"),
        ("ring1_init", "test-dp-ring1-init", "demo1")]
    assert {j["image"] for j in first["jobs"]} == {"registry.example.invalid/datasurface/datasurface:v1.1.0"}
    assert sorted(j["file"] for j in first["jobs"]) == [str(target / name) for name in FILES if name.endswith("_job.yaml")]
    assert first["dag_files"] == [str(target / DAG)]
    assert first["bootstrap_manifest"] == str(target / "kubernetes-bootstrap.yaml")
    assert {"kind": "Service", "name": "test-dp-mcp", "namespace": "demo1", "api_version": "v1"} in first["resources"]
    assert first["rc"] == 0 and first["runner"] == runner.name
    assert not scratch_of(first).exists()  # temporary directories are gone
    assert not list(model.rglob("__pycache__"))  # importing the model left nothing in the checkout

    rc, output, second = run_module(tmp_path, runner.opts(model, out))
    assert rc == 0, output[-4000:]
    assert second["changed"] is False and {f["status"] for f in second["files"]} == {"unchanged"}
    assert "changed=0" in output

    (model / "eco.py").write_text((model / "eco.py").read_text().replace('"@hourly"', '"@daily"'))
    before = {name: sha256(target / name) for name in FILES}
    rc, output, check = run_module(tmp_path, runner.opts(model, out), "--check", "--diff")
    assert rc == 0, output[-4000:]
    assert check["changed"] is True
    assert [f["name"] for f in check["files"] if f["status"] != "unchanged"] == [DAG]
    assert {name: sha256(target / name) for name in FILES} == before  # check mode wrote nothing
    assert "-SCHEDULE = '@hourly'" in output and "+SCHEDULE = '@daily'" in output

    rc, output, third = run_module(tmp_path, runner.opts(model, out))
    assert rc == 0, output[-4000:]
    assert third["changed"] is True
    assert [(f["name"], f["status"]) for f in third["files"] if f["status"] != "unchanged"] == [(DAG, "changed")]
    assert "SCHEDULE = '@daily'" in (target / DAG).read_text()
    assert {name: sha256(target / name) for name in FILES if name != DAG} == {k: v for k, v in before.items() if k != DAG}


def test_check_mode_on_a_fresh_output_writes_nothing(runner, tmp_path):
    rc, output, result = run_module(tmp_path, runner.opts(STUB / "model", tmp_path / "out"), "--check")
    assert rc == 0, output[-4000:]
    assert result["changed"] is True and {f["status"] for f in result["files"]} == {"added"}
    assert not (tmp_path / "out").exists()


def test_unknown_psp_fails_naming_it(runner, tmp_path):
    rc, output, result = run_module(tmp_path, runner.opts(STUB / "model", tmp_path / "out", psp="Prod_DP"))
    assert rc != 0
    assert result["failed"] is True and result["failure_kind"] == "unknown_psp"
    assert result["msg"].startswith("the generator wrote nothing for psp 'Prod_DP': the model in ")
    assert "has no platform service provider of that name" in output
    assert not (tmp_path / "out").exists()


def test_older_generator_rejects_rte_name_clearly_and_works_without_it(runner, tmp_path):
    legacy = {"plain_environment": {"DATASURFACE_STUB_LEGACY": "1"}}
    rc, output, result = run_module(tmp_path, runner.opts(STUB / "model", tmp_path / "out", **legacy))
    assert rc != 0 and result["failure_kind"] == "rte_name_unsupported"
    assert result["msg"] == ("this generator does not know --rte-name (an older DataSurface version?): "
                             "unset rte_name or use a newer image")
    assert "unrecognized arguments: --rte-name prod" in "\n".join(result["stderr_lines"])

    rc, output, result = run_module(tmp_path, runner.opts(STUB / "model", tmp_path / "out", rte_name=None, **legacy))
    assert rc == 0, output[-4000:]
    assert "--rte-name" not in result["command"]
    assert [f["name"] for f in result["files"]] == [name for name in FILES if "model_merge" not in name]
    assert sorted(j["role"] for j in result["jobs"]) == ["reconcile_views", "ring1_init"]
    assert "test-dp-mcp" not in [r["name"] for r in result["resources"]]


def test_a_directory_that_is_not_a_model_shows_the_generator_lines(runner, tmp_path):
    notamodel = tmp_path / "notamodel"
    notamodel.mkdir()
    (notamodel / "README.md").write_text("not a model\n")
    rc, output, result = run_module(tmp_path, runner.opts(notamodel, tmp_path / "out"))
    assert rc != 0 and result["failure_kind"] == "model_load"
    assert result["msg"].startswith(f"the generator could not load the model in {notamodel}")
    assert "Failed to load ecosystem from" in result["msg"]
    assert result["msg"].rstrip().endswith("ModuleNotFoundError: No module named 'eco'")
    if runner.name == "container":
        assert "(mounted at /yellow/model)" in result["msg"]


def test_the_working_directory_eco_py_is_not_loaded(runner, tmp_path):
    """The module runs in a directory holding a poisoned eco.py; for the container, the image's own working
    directory holds one too. The output must come from the real model."""
    trap = tmp_path / "trap"
    trap.mkdir()
    shutil.copy(STUB / "workdir" / "eco.py", trap / "eco.py")
    rc, output, result = run_module(tmp_path, runner.opts(STUB / "model", tmp_path / "out"), cwd=trap)
    assert rc == 0, output[-4000:]
    assert {j["namespace"] for j in result["jobs"]} == {"demo1"}
    for name in FILES:
        assert "poisoned" not in (tmp_path / "out" / "Test_DP" / name).read_text()


def test_a_secret_environment_value_stays_out_of_output_and_command_lines(runner, tmp_path):
    """The stand-in prints the variable (like a generator logging its environment): it reaches the generator,
    yet neither the -v output, the result nor any command line shows it."""
    wrapper_dir = None
    if runner.name == "container":
        # A podman wrapper first on PATH records every argv the module runs, and whether the value arrived by environment.
        wrapper_dir = tmp_path / "bin"
        wrapper_dir.mkdir()
        log = tmp_path / "podman-calls.log"
        real = shutil.which("podman")
        (wrapper_dir / "podman").write_text(
            "#!/bin/sh\n"
            f"printf 'argv:' >> '{log}'; printf ' %s' \"$@\" >> '{log}'; echo >> '{log}'\n"
            f"printf 'env-sha256: ' >> '{log}'; printf '%s' \"$DS_TOKEN\" | sha256sum >> '{log}'\n"
            f"exec {real} \"$@\"\n")
        (wrapper_dir / "podman").chmod(0o755)
    options = runner.opts(STUB / "model", tmp_path / "out", environment={"DS_TOKEN": SECRET},
                          plain_environment={"DATASURFACE_STUB_ECHO": "DS_TOKEN"})
    if wrapper_dir:
        options.pop("engine")  # auto: the first podman on PATH, the wrapper
    rc, output, result = run_module(tmp_path, options, "--diff", path_prefix=str(wrapper_dir) if wrapper_dir else None)
    assert rc == 0, output[-4000:]
    assert SECRET not in output and SECRET not in json.dumps(result)
    assert "env DS_TOKEN=********" in result["stdout_lines"]  # it did reach the generator
    assert SECRET not in " ".join(result["command"])
    if runner.name == "python":
        assert "DS_TOKEN" not in " ".join(result["command"])
        return
    command = result["command"]
    assert command[0] == str(wrapper_dir / "podman")
    assert command[command.index("--env") + 1:command.index("--env") + 4] == ["DATASURFACE_STUB_ECHO", "--env", "DS_TOKEN"]
    calls = log.read_text()
    assert SECRET not in calls and "argv: run --rm" in calls
    assert "env-sha256: " + hashlib.sha256(SECRET.encode()).hexdigest() in calls


# --- input errors (nothing runs) -----------------------------------------------------------------

@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"psp": "../etc"}, "psp: '../etc' is not a platform service provider name"),
        ({"runner": "container", "image": None}, "runner is container but all of the following are missing: image"),
        ({"runner": "container", "image": "x:1", "engine": "nerdctl"}, "engine: nerdctl not found on PATH"),
        ({"model_dir": "/nonexistent/model"}, "model_dir: /nonexistent/model does not exist"),
        ({"environment": {"BAD-NAME": "x"}}, "environment: 'BAD-NAME' is not a valid environment variable name"),
    ],
    ids=["psp-path", "no-image", "no-engine", "no-model", "env-name"],
)
def test_bad_input_fails_before_anything_runs(tmp_path, overrides, fragment):
    if overrides.get("engine") == "nerdctl" and shutil.which("nerdctl"):
        pytest.skip("nerdctl is installed here")
    options = PYTHON.opts(STUB / "model", tmp_path / "out")
    options.update(overrides)
    options = {key: value for key, value in options.items() if value is not None}
    rc, output, result = run_module(tmp_path, options)
    assert rc != 0 and fragment in result["msg"], output[-3000:]
    assert "command" not in result and not (tmp_path / "out").exists()


# --- container only ------------------------------------------------------------------------------

def test_container_timeout_kills_the_container(container_runner, tmp_path):
    options = container_runner.opts(STUB / "model", tmp_path / "out", timeout=3, plain_environment={"DATASURFACE_STUB_SLEEP": "120"})
    started = time.monotonic()
    rc, output, result = run_module(tmp_path, options)
    assert time.monotonic() - started < 60
    assert rc != 0 and result["failure_kind"] == "timeout", output[-3000:]
    assert result["msg"].startswith("the generator did not finish within timeout=3s and was killed")
    name = result["command"][result["command"].index("--name") + 1]
    left = subprocess.run(["podman", "ps", "--all", "--quiet", "--filter", f"name=^{name}$"], capture_output=True, text=True, check=True)
    assert left.stdout.strip() == ""
    assert not scratch_of(result).exists() and not (tmp_path / "out").exists()


def test_container_user_files_are_read_and_cleaned_up(container_runner, tmp_path):
    options = container_runner.opts(STUB / "model", tmp_path / "out", container_user="65534:65534")
    rc, output, result = run_module(tmp_path, options)
    assert rc == 0, output[-3000:]
    assert [f["name"] for f in result["files"]] == FILES and not scratch_of(result).exists()
    for name in FILES:  # written by the module (its own user), with ordinary permissions
        info = (tmp_path / "out" / "Test_DP" / name).stat()
        assert info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & 0o600 == 0o600

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""datasurface_bootstrap logic: input checks, command lines, output comparison and writing, parsing of what
came out, failure classification, secrecy and timeouts (with a fake generator; the real run is in
tests/integration/test_datasurface_bootstrap.py)."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import time
from pathlib import Path

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils import bootstrap_generator as bg
from ansible_collections.datasurface.yellow.plugins.module_utils.bootstrap_generator import (
    CommandTimeout,
    GeneratorFailure,
    InvalidInput,
    apply_changes,
    check_params,
    classify_failure,
    compare_trees,
    container_argv,
    describe_output,
    generate,
    job_role,
    process_environment,
    python_argv,
    run_command,
    scan_tree,
)

SECRET = "s3cr3t 'tok'; $(id) 7f1e"
IMAGE = "registry.example.invalid/datasurface/datasurface:v1.1.0"

JOB = """---
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
  namespace: demo1
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: {image}
"""

BOOTSTRAP = """# comment
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: test-dp-sa
  namespace: demo1
---
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: test-dp-cluster
---
apiVersion: v1
kind: Service
metadata:
  name: test-dp-mcp
  namespace: demo1
spec:
  type: NodePort
  ports:
    - port: 8000
"""

OUTPUT = {
    "test_dp_infrastructure_dag.py": "SCHEDULE = '@hourly'\n",
    "test_dp_ring1_init_job.yaml": JOB.format(name="test-dp-ring1-init", image=IMAGE),
    "test_dp_model_merge_job.yaml": JOB.format(name="test-dp-model-merge-job", image=IMAGE),
    "test_dp_reconcile_views_job.yaml": JOB.format(name="test-dp-reconcile-views-job", image=IMAGE),
    "kubernetes-bootstrap.yaml": BOOTSTRAP,
}


@pytest.fixture
def model(tmp_path):
    directory = tmp_path / "model"
    directory.mkdir()
    (directory / "eco.py").write_text("def createEcosystem():\n    return {}\n")
    return directory


def which_only(*names):
    return lambda name: "/usr/bin/" + name if name in names else None


def params(model_dir, output_dir, **overrides):
    base = dict(model_dir=str(model_dir), output_dir=str(output_dir), psp="Test_DP", rte_name="prod", ring_level=0,
                runner="container", engine="auto", image=IMAGE, pull="missing", network="none", container_user=None,
                python="python3", environment=None, plain_environment=None, timeout=600)
    base.update(overrides)
    return base


def plan_for(model_dir, output_dir, which=which_only("podman"), **overrides):
    return check_params(params(model_dir, output_dir, **overrides), which=which)


# --- input -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "overrides, option, fragment",
    [
        ({"psp": ""}, "psp", "must not be empty"),
        ({"psp": "a/b"}, "psp", "no path separators"),
        ({"psp": ".."}, "psp", "no path separators"),
        ({"psp": "-x"}, "psp", "must not start with '-'"),
        ({"rte_name": ""}, "rte_name", "omit it"),
        ({"rte_name": "--help"}, "rte_name", "must not start with '-'"),
        ({"ring_level": -1}, "ring_level", "0 or more"),
        ({"timeout": 0}, "timeout", "at least 1"),
        ({"image": None}, "image", "required with runner=container"),
        ({"image": "--privileged"}, "image", "must not start with '-'"),
        ({"container_user": ""}, "container_user", "must not be empty"),
        ({"network": "--privileged"}, "network", "must not start with '-'"),
        ({"environment": {"BAD-NAME": "x"}}, "environment", "not a valid environment variable name"),
        ({"environment": {"TOKEN": {"nested": 1}}}, "environment", "TOKEN: the value must be"),
        ({"plain_environment": {"A": None}}, "plain_environment", "A: the value must be"),
        ({"environment": {"A": "x"}, "plain_environment": {"A": "y"}}, "plain_environment", "A also set in environment"),
        ({"engine": "docker"}, "engine", "docker not found on PATH"),
    ],
)
def test_bad_input_fails_naming_the_option(model, tmp_path, overrides, option, fragment):
    with pytest.raises(InvalidInput) as caught:
        plan_for(model, tmp_path / "out", **overrides)
    assert caught.value.option == option
    assert str(caught.value).startswith(option + ": ") and fragment in str(caught.value)


def test_model_dir_must_exist_be_a_directory_and_hold_a_file(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "afile").write_text("x")
    for path, fragment in ((tmp_path / "missing", "does not exist"), (tmp_path / "afile", "is not a directory"),
                           (tmp_path / "empty", "holds no file")):
        with pytest.raises(InvalidInput, match=fragment) as caught:
            plan_for(path, tmp_path / "out")
        assert caught.value.option == "model_dir"


def test_output_dir_and_its_psp_directory_must_be_directories(model, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInput, match="is not a directory") as caught:
        plan_for(model, tmp_path / "file")
    assert caught.value.option == "output_dir"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "Test_DP").write_text("x")
    with pytest.raises(InvalidInput, match="Test_DP exists and is not a directory"):
        plan_for(model, tmp_path / "out")


def test_output_dir_inside_the_model_is_fine(model):
    plan = plan_for(model, model / "generated_output")
    assert plan["output_path"] == str(model / "generated_output" / "Test_DP")


def test_a_model_path_that_cannot_be_mounted_is_refused_for_containers_only(tmp_path):
    odd = tmp_path / "a:b"
    odd.mkdir()
    (odd / "eco.py").write_text("")
    with pytest.raises(InvalidInput, match="cannot be mounted") as caught:
        plan_for(odd, tmp_path / "out")
    assert caught.value.option == "model_dir"
    assert plan_for(odd, tmp_path / "out", runner="python", which=which_only("python3"))["model_dir"] == str(odd)


def test_engine_auto_takes_the_first_found():
    assert check_engine(which_only("podman", "docker", "nerdctl")) == ("/usr/bin/podman", "podman")
    assert check_engine(which_only("docker", "nerdctl")) == ("/usr/bin/docker", "docker")
    assert check_engine(which_only("nerdctl")) == ("/usr/bin/nerdctl", "nerdctl")
    with pytest.raises(InvalidInput, match="engine: podman or docker or nerdctl not found on PATH"):
        check_engine(which_only())


def check_engine(which):
    model = Path(__file__).resolve().parents[1] / "generator_stub" / "model"
    plan = check_params(params(model, "/nonexistent/out"), which=which)
    return plan["engine"], plan["engine_name"]


def test_python_runner_resolves_the_interpreter_and_warns_about_container_options(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", runner="python", which=lambda name: None if name != "python3" else os.path.realpath(
        sys.executable), image="ignored:latest")
    assert plan["python_path"] == os.path.realpath(sys.executable)
    assert plan["warnings"] == ["image is ignored with runner=python"]
    with pytest.raises(InvalidInput, match="python: 'python9' is not an executable file on PATH"):
        plan_for(model, tmp_path / "out", runner="python", python="python9", which=which_only())
    with pytest.raises(InvalidInput, match="is not an executable file") as caught:
        plan_for(model, tmp_path / "out", runner="python", python=str(tmp_path / "nope" / "python"))
    assert caught.value.option == "python"


def test_environment_values_become_strings(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", environment={"TOKEN": SECRET}, plain_environment={"DEBUG": True, "LEVEL": 3})
    assert plan["secret_env"] == {"TOKEN": SECRET}
    assert plan["plain_env"] == {"DEBUG": "true", "LEVEL": "3"}


# --- command lines ---------------------------------------------------------------------------------

def test_container_command_mounts_model_read_only_and_names_environment_only(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", environment={"TOKEN": SECRET}, plain_environment={"PLAIN": "visible-value"},
                    container_user="1000:1000", pull="never")
    argv = container_argv(plan, "yellow-bootstrap-x", "/tmp/o", "/tmp/w")
    assert argv[:6] == ["/usr/bin/podman", "run", "--rm", "--name", "yellow-bootstrap-x", "--pull=never"]
    assert "--network=none" in argv
    assert argv[argv.index("--user") + 1] == "1000:1000"
    envs = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--env"]
    assert envs == ["PLAIN", "TOKEN"]
    joined = "\0".join(argv)
    assert SECRET not in joined and "visible-value" not in joined and "=" + SECRET not in joined
    assert f"{model}:/yellow/model:ro" in argv and "/tmp/o:/yellow/output" in argv and "/tmp/w:/yellow/work" in argv
    assert argv[argv.index("--workdir") + 1] == "/yellow/work"
    image_at = argv.index(IMAGE)
    assert argv[image_at + 1:] == ["python3", "-m", "datasurface.cmd.platform", "generatePlatformBootstrap", "--ringLevel", "0",
                                   "--model", "/yellow/model", "--output", "/yellow/output", "--psp", "Test_DP",
                                   "--rte-name", "prod"]
    # The values travel in the engine's own environment.
    env = process_environment(plan, base={"PATH": "/usr/bin"})
    assert env["TOKEN"] == SECRET and env["PLAIN"] == "visible-value" and "PYTHONDONTWRITEBYTECODE" not in env


def test_rte_name_only_when_set_and_network_default_of_the_engine(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", rte_name=None, network="", ring_level=2)
    argv = container_argv(plan, "n", "/tmp/o", "/tmp/w")
    assert "--rte-name" not in argv and not any(arg.startswith("--network") for arg in argv)
    assert argv[argv.index("--ringLevel") + 1] == "2"
    assert "--user" not in argv


def test_python_command_and_environment(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", runner="python", which=lambda name: "/usr/bin/python3",
                    environment={"TOKEN": SECRET}, plain_environment={"PYTHONPATH": "/opt/ds"})
    assert python_argv(plan, "/tmp/o") == ["/usr/bin/python3", "-m", "datasurface.cmd.platform", "generatePlatformBootstrap",
                                           "--ringLevel", "0", "--model", str(model), "--output", "/tmp/o", "--psp", "Test_DP",
                                           "--rte-name", "prod"]
    env = process_environment(plan, base={"PATH": "/usr/bin", "HOME": "/root"})
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "TOKEN": SECRET, "PYTHONPATH": "/opt/ds", "PYTHONDONTWRITEBYTECODE": "1"}
    plan["plain_env"]["PYTHONDONTWRITEBYTECODE"] = ""
    assert process_environment(plan, base={})["PYTHONDONTWRITEBYTECODE"] == ""


# --- output comparison and writing -----------------------------------------------------------------

def write_tree(root: Path, files: dict) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_compare_reports_added_changed_unchanged_removed(tmp_path):
    new_root, dest = tmp_path / "new", tmp_path / "dest"
    write_tree(new_root, {"same.yaml": "a\n", "changed.py": "new\n", "added.yaml": "x\n"})
    write_tree(dest, {"same.yaml": "a\n", "changed.py": "old\n", "gone.yaml": "g\n", "sub/old.yaml": "o\n"})
    new, old = scan_tree(str(new_root), strict=True), scan_tree(str(dest), strict=False)
    entries = compare_trees(new, old)
    assert [(e["name"], e["status"]) for e in entries] == [
        ("added.yaml", "added"), ("changed.py", "changed"), ("gone.yaml", "removed"), ("same.yaml", "unchanged"),
        ("sub/old.yaml", "removed")]
    assert entries[1]["sha256"] == new["changed.py"]["sha256"] and entries[1]["size"] == 4
    assert entries[2]["sha256"] == old["gone.yaml"]["sha256"]

    os.chmod(dest / "changed.py", 0o640)
    apply_changes(str(new_root), str(dest), entries)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["added.yaml", "changed.py", "same.yaml"]
    assert (dest / "changed.py").read_text() == "new\n"
    assert stat.S_IMODE((dest / "changed.py").stat().st_mode) == 0o640  # a replaced file keeps its mode
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((dest / "added.yaml").stat().st_mode) == 0o666 & ~umask
    assert compare_trees(scan_tree(str(new_root), True), scan_tree(str(dest), False)) == [
        dict(e, status="unchanged") for e in compare_trees(new, new)]


def test_apply_replaces_files_and_directories_in_the_way(tmp_path):
    new_root, dest = tmp_path / "new", tmp_path / "dest"
    write_tree(new_root, {"sub/x.yaml": "x\n", "dir.yaml": "now a file\n"})
    write_tree(dest, {"sub": "was a file\n", "dir.yaml/inner.yaml": "i\n"})
    (dest / "link.yaml").symlink_to("/etc/hostname")
    old = scan_tree(str(dest), strict=False)
    assert old["link.yaml"] == {"sha256": None, "size": None}
    entries = compare_trees(scan_tree(str(new_root), True), old)
    assert {e["name"]: e["status"] for e in entries} == {
        "dir.yaml": "added", "dir.yaml/inner.yaml": "removed", "link.yaml": "removed", "sub": "removed", "sub/x.yaml": "added"}
    apply_changes(str(new_root), str(dest), entries)
    assert (dest / "sub" / "x.yaml").read_text() == "x\n" and (dest / "dir.yaml").read_text() == "now a file\n"
    assert not os.path.lexists(dest / "link.yaml") and os.path.exists("/etc/hostname")
    assert not list(dest.rglob(".*"))  # no temporary files left


def test_generated_symlinks_are_refused(tmp_path):
    root = tmp_path / "new"
    write_tree(root, {"a.yaml": "a\n"})
    (root / "evil.yaml").symlink_to("/etc/shadow")
    with pytest.raises(GeneratorFailure, match="symlink: evil.yaml") as caught:
        scan_tree(str(root), strict=True)
    assert caught.value.kind == "invalid_output"


# --- what came out ---------------------------------------------------------------------------------

def test_jobs_resources_and_dags_are_reported(tmp_path):
    root = tmp_path / "new"
    write_tree(root, dict(OUTPUT, **{"extra_job.yml": JOB.format(name="custom", image="other:1"), "helper.py": "x = 1\n"}))
    info = describe_output(str(root), scan_tree(str(root), True), "/srv/out/Test_DP")
    assert [(j["file"], j["name"], j["namespace"], j["image"], j["role"]) for j in info["jobs"]] == [
        ("/srv/out/Test_DP/extra_job.yml", "custom", "demo1", "other:1", "other"),
        ("/srv/out/Test_DP/test_dp_model_merge_job.yaml", "test-dp-model-merge-job", "demo1", IMAGE, "model_merge"),
        ("/srv/out/Test_DP/test_dp_reconcile_views_job.yaml", "test-dp-reconcile-views-job", "demo1", IMAGE, "reconcile_views"),
        ("/srv/out/Test_DP/test_dp_ring1_init_job.yaml", "test-dp-ring1-init", "demo1", IMAGE, "ring1_init"),
    ]
    assert info["dag_files"] == ["/srv/out/Test_DP/test_dp_infrastructure_dag.py"]
    assert info["bootstrap_manifest"] == "/srv/out/Test_DP/kubernetes-bootstrap.yaml"
    assert info["resources"] == [
        {"api_version": "v1", "kind": "ServiceAccount", "name": "test-dp-sa", "namespace": "demo1"},
        {"api_version": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "name": "test-dp-cluster", "namespace": None},
        {"api_version": "v1", "kind": "Service", "name": "test-dp-mcp", "namespace": "demo1"},
    ]


def test_no_bootstrap_manifest_and_odd_jobs(tmp_path):
    root = tmp_path / "new"
    write_tree(root, {"j.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x-reconcile-views}\nspec: {}\n"})
    info = describe_output(str(root), scan_tree(str(root), True), "/o")
    assert info["bootstrap_manifest"] is None and info["resources"] == [] and info["dag_files"] == []
    assert info["jobs"] == [{"file": "/o/j.yaml", "name": "x-reconcile-views", "namespace": None, "image": None,
                             "role": "reconcile_views"}]


@pytest.mark.parametrize(
    "file_name, job_name, role",
    [
        ("test_dp_ring1_init_job.yaml", "whatever", "ring1_init"),
        ("Test-DP-Model-Merge-Job.yaml", None, "model_merge"),
        ("jobs.yaml", "test-dp-ring1-init", "ring1_init"),
        ("jobs.yaml", "test-dp-cleanup", "other"),
    ],
)
def test_job_roles(file_name, job_name, role):
    assert job_role(file_name, job_name) == role


def test_invalid_yaml_is_a_clear_failure(tmp_path):
    root = tmp_path / "new"
    write_tree(root, {"bad.yaml": "a: [unclosed\n"})
    with pytest.raises(GeneratorFailure, match="the generated file bad.yaml is not valid YAML") as caught:
        describe_output(str(root), scan_tree(str(root), True), "/o")
    assert caught.value.kind == "invalid_output"


# --- failure classification ------------------------------------------------------------------------

def container_plan(model, tmp_path):
    return plan_for(model, tmp_path / "out")


def test_rte_name_rejection_is_explained(model, tmp_path):
    stderr = ("usage: python -m datasurface.cmd.platform [-h] {generatePlatformBootstrap} ...\n"
              "python -m datasurface.cmd.platform: error: unrecognized arguments: --rte-name prod\n")
    failure = classify_failure(2, "", stderr, container_plan(model, tmp_path))
    assert failure.kind == "rte_name_unsupported"
    assert str(failure) == ("this generator does not know --rte-name (an older DataSurface version?): "
                            "unset rte_name or use a newer image")


def test_model_load_failure_surfaces_the_marker_and_the_last_lines(model, tmp_path):
    traceback_lines = ["Traceback (most recent call last):"] + [f'  File "frame{i}.py", line {i}, in f{i}' for i in range(30)]
    stderr = "\n".join(["Failed to load ecosystem from /yellow/model"] + traceback_lines + ["ModuleNotFoundError: No module named 'eco'"])
    failure = classify_failure(1, "Loading ecosystem from /yellow/model\n", stderr, container_plan(model, tmp_path))
    message = str(failure)
    assert failure.kind == "model_load"
    assert message.startswith(f"the generator could not load the model in {model} (mounted at /yellow/model); its last lines:\n")
    assert "Failed to load ecosystem from /yellow/model\n...\n" in message
    assert message.endswith("ModuleNotFoundError: No module named 'eco'")
    assert 'frame29.py' in message and 'frame5.py' not in message
    assert len(message.splitlines()) == 1 + 2 + 20


def test_short_model_load_failure_is_not_repeated(model, tmp_path):
    stderr = "Failed to load ecosystem from /m\nTraceback (most recent call last):\nSyntaxError: bad\n"
    plan = plan_for(model, tmp_path / "out", runner="python", which=lambda name: "/usr/bin/python3")
    message = str(classify_failure(1, "", stderr, plan))
    assert message.count("Failed to load ecosystem") == 1 and "(mounted at" not in message


@pytest.mark.parametrize(
    "rc, stdout, stderr, kind, fragment",
    [
        (1, "", "Traceback...\nModuleNotFoundError: No module named 'datasurface'\n", "not_installed",
         "python3 cannot import datasurface.cmd.platform"),
        (2, "", "usage: x\nx: error: the following arguments are required: --psp\n", "arguments", "rejected its command line (exit 2)"),
        (125, "", "Error: localhost/nope:latest: image not known\n", "engine", "podman could not run the container (exit 125"),
        (127, "", "exec: python3: not found\n", "engine", "cannot run 'python3' (exit 127)"),
        (3, "all went wrong\n", "", "error", "the generator failed (exit 3); last lines:\nall went wrong"),
        (1, "", "", "error", "(no output)"),
    ],
)
def test_other_failures(model, tmp_path, rc, stdout, stderr, kind, fragment):
    failure = classify_failure(rc, stdout, stderr, container_plan(model, tmp_path))
    assert failure.kind == kind and fragment in str(failure)


# --- the whole run with a fake generator -----------------------------------------------------------

class FakeGenerator:
    """Stands in for the engine/interpreter: writes ``files`` into ``--output``/<psp>, or fails as told."""

    def __init__(self, files=None, rc=0, stdout="", stderr="", timeout=False):
        self.files = dict(OUTPUT if files is None else files)
        self.rc, self.stdout, self.stderr, self.timeout = rc, stdout, stderr, timeout
        self.calls = []

    def __call__(self, argv, env, cwd, timeout):
        self.calls.append((list(argv), dict(env), cwd, timeout))
        if argv[1] in ("kill", "rm") or "--entrypoint" in argv:
            return 0, "", ""
        assert os.listdir(cwd) == [], "the generator must start in an empty working directory"
        if self.timeout:
            raise CommandTimeout("partial " + SECRET + "\n", "")
        if "--output" in argv and self.rc == 0:
            output = argv[argv.index("--output") + 1]
            if output == "/yellow/output":  # the container's mount of the scratch output directory
                output = next(a.split(":")[0] for a in argv if a.endswith(":/yellow/output"))
            write_tree(Path(output) / argv[argv.index("--psp") + 1], self.files)
        return self.rc, self.stdout, self.stderr


def scratch_dirs():
    return sorted(p for p in os.listdir(tempfile.gettempdir()) if p.startswith("yellow-bootstrap-"))


def test_first_run_adds_second_is_unchanged_then_only_the_changed_file(model, tmp_path):
    before = scratch_dirs()
    plan = container_plan(model, tmp_path)
    fake = FakeGenerator()
    first = generate(plan, check_mode=False, diff_mode=False, runner=fake)
    assert first["changed"] and {f["status"] for f in first["files"]} == {"added"}
    assert first["rc"] == 0 and first["engine"] == "podman" and first["runner"] == "container"
    assert first["command"] == fake.calls[0][0]
    assert (tmp_path / "out" / "Test_DP" / "test_dp_ring1_init_job.yaml").read_text() == OUTPUT["test_dp_ring1_init_job.yaml"]
    second = generate(plan, check_mode=False, diff_mode=False, runner=fake)
    assert not second["changed"] and {f["status"] for f in second["files"]} == {"unchanged"}
    fake.files["test_dp_infrastructure_dag.py"] = "SCHEDULE = '@daily'\n"
    third = generate(plan, check_mode=False, diff_mode=True, runner=fake)
    assert third["changed"]
    assert [f["name"] for f in third["files"] if f["status"] != "unchanged"] == ["test_dp_infrastructure_dag.py"]
    assert third["diff"] == [{
        "before_header": str(tmp_path / "out" / "Test_DP" / "test_dp_infrastructure_dag.py"),
        "after_header": str(tmp_path / "out" / "Test_DP" / "test_dp_infrastructure_dag.py"),
        "before": "SCHEDULE = '@hourly'\n", "after": "SCHEDULE = '@daily'\n"}]
    assert scratch_dirs() == before  # temporary directories are removed


def test_check_mode_writes_nothing(model, tmp_path):
    plan = container_plan(model, tmp_path)
    result = generate(plan, check_mode=True, diff_mode=True, runner=FakeGenerator())
    assert result["changed"] and not (tmp_path / "out").exists()
    assert {f["status"] for f in result["files"]} == {"added"} and len(result["diff"]) == 5
    assert result["files"][0]["path"] == str(tmp_path / "out" / "Test_DP" / "kubernetes-bootstrap.yaml")
    assert result["jobs"][0]["file"] == str(tmp_path / "out" / "Test_DP" / "test_dp_model_merge_job.yaml")


def test_a_vanished_file_is_removed_and_reported(model, tmp_path):
    plan = container_plan(model, tmp_path)
    generate(plan, False, False, runner=FakeGenerator())
    files = dict(OUTPUT)
    del files["test_dp_model_merge_job.yaml"]
    check = generate(plan, True, False, runner=FakeGenerator(files))
    assert check["changed"] and (tmp_path / "out" / "Test_DP" / "test_dp_model_merge_job.yaml").exists()
    result = generate(plan, False, True, runner=FakeGenerator(files))
    assert [(f["name"], f["status"]) for f in result["files"] if f["status"] != "unchanged"] == [
        ("test_dp_model_merge_job.yaml", "removed")]
    assert not (tmp_path / "out" / "Test_DP" / "test_dp_model_merge_job.yaml").exists()
    assert [j["role"] for j in result["jobs"]] == ["reconcile_views", "ring1_init"]
    assert result["diff"][0]["after_header"] == "(removed)" and result["diff"][0]["after"] == ""


def test_diff_of_large_and_binary_files_is_a_note(model, tmp_path):
    plan = container_plan(model, tmp_path)
    files = dict(OUTPUT, **{"big.yaml": "# " + "x" * (bg.DIFF_LIMIT + 10) + "\n"})
    generate(plan, False, False, runner=FakeGenerator(files))
    files["big.yaml"] = "# " + "y" * (bg.DIFF_LIMIT + 10) + "\n"
    files["blob.bin"] = "a\0b"
    diff = generate(plan, True, True, runner=FakeGenerator(files))["diff"]
    by_name = {Path(d["after_header"]).name: d for d in diff}
    assert by_name["big.yaml"]["before"].startswith("(%s bytes, larger than" % (bg.DIFF_LIMIT + 13))
    assert by_name["blob.bin"]["after"].startswith("(binary file; sha256 ") and by_name["blob.bin"]["before_header"] == "(absent)"


def test_unknown_psp_fails_naming_it(model, tmp_path):
    plan = container_plan(model, tmp_path)
    with pytest.raises(GeneratorFailure) as caught:
        generate(plan, False, False, runner=FakeGenerator(files={}, stdout="Loading ecosystem from /yellow/model\n"))
    assert caught.value.kind == "unknown_psp"
    assert str(caught.value) == (f"the generator wrote nothing for psp 'Test_DP': the model in {model} has no platform "
                                 "service provider of that name")
    assert caught.value.result["stdout_lines"] == ["Loading ecosystem from /yellow/model"]
    assert caught.value.result["failure_kind"] == "unknown_psp" and caught.value.result["rc"] == 0
    assert not (tmp_path / "out").exists()


def test_failures_carry_the_command_and_masked_output(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", environment={"TOKEN": SECRET})
    fake = FakeGenerator(rc=1, stdout=f"env TOKEN={SECRET}\n", stderr=f"Failed to load ecosystem from /yellow/model\nboom {SECRET}\n")
    with pytest.raises(GeneratorFailure) as caught:
        generate(plan, False, False, runner=fake)
    result = caught.value.result
    assert caught.value.kind == "model_load" and SECRET not in str(caught.value) and "boom ********" in str(caught.value)
    assert result["stdout_lines"] == ["env TOKEN=********"] and SECRET not in repr(result)
    assert "--env" in result["command"] and SECRET not in "".join(result["command"])
    assert fake.calls[0][1]["TOKEN"] == SECRET  # the value went through the environment


def test_secret_is_masked_on_success_too(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", environment={"TOKEN": SECRET})
    result = generate(plan, False, False, runner=FakeGenerator(stdout=f"env TOKEN={SECRET}\n"))
    assert result["stdout_lines"] == ["env TOKEN=********"] and SECRET not in repr(result)


def test_timeout_kills_the_container(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", environment={"TOKEN": SECRET}, timeout=5)
    fake = FakeGenerator(timeout=True)
    with pytest.raises(GeneratorFailure) as caught:
        generate(plan, False, False, runner=fake)
    assert caught.value.kind == "timeout"
    assert str(caught.value).startswith("the generator did not finish within timeout=5s and was killed")
    assert SECRET not in str(caught.value) and caught.value.result["rc"] is None
    name = fake.calls[0][0][fake.calls[0][0].index("--name") + 1]
    assert [c[0][1:] for c in fake.calls[1:]] == [["kill", name], ["rm", "--force", name]]
    assert fake.calls[0][3] == 5


def test_cleanup_opens_up_files_a_container_user_wrote(model, tmp_path, monkeypatch):
    plan = container_plan(model, tmp_path)
    real_rmtree = bg.shutil.rmtree
    attempts = []

    def rmtree(path, ignore_errors=False):
        attempts.append(ignore_errors)
        if len(attempts) == 1:
            raise PermissionError(13, "Permission denied")
        real_rmtree(path, ignore_errors=ignore_errors)

    monkeypatch.setattr(bg.shutil, "rmtree", rmtree)
    fake = FakeGenerator()
    before = scratch_dirs()
    generate(plan, False, False, runner=fake)
    chmod = [c[0] for c in fake.calls if "--entrypoint" in c[0]]
    assert len(chmod) == 1 and chmod[0][chmod[0].index("--entrypoint") + 1:] == [
        "chmod", IMAGE, "-R", "a+rwX", "/yellow/output", "/yellow/work"]
    assert "--user" in chmod[0] and chmod[0][chmod[0].index("--user") + 1] == "0:0" and "--network=none" in chmod[0]
    assert scratch_dirs() == before


def test_python_runner_runs_in_an_empty_directory_with_the_environment(model, tmp_path):
    plan = plan_for(model, tmp_path / "out", runner="python", which=lambda name: "/usr/bin/python3",
                    plain_environment={"PYTHONPATH": "/opt/ds"})
    fake = FakeGenerator()
    result = generate(plan, False, False, runner=fake)
    argv, env, cwd, _timeout = fake.calls[0]
    assert result["engine"] is None and argv[0] == "/usr/bin/python3"
    assert env["PYTHONPATH"] == "/opt/ds" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert cwd != os.getcwd() and not os.path.exists(cwd)


# --- running processes -----------------------------------------------------------------------------

def test_run_command_separates_the_streams(tmp_path):
    rc, out, err = run_command(["sh", "-c", "echo out; echo err >&2; pwd; echo $YELLOW_X; exit 3"],
                               {"PATH": os.environ["PATH"], "YELLOW_X": "via-env"}, str(tmp_path), 30)
    assert (rc, out, err) == (3, f"out\n{tmp_path}\nvia-env\n", "err\n")


def test_run_command_timeout_kills_the_whole_process_group(tmp_path):
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        # The background sleep keeps stdout open: only killing the whole group lets this return early.
        run_command(["sh", "-c", "echo started; sleep 30 & sleep 30"], {"PATH": os.environ["PATH"]}, str(tmp_path), 1)
    assert time.monotonic() - started < 10
    assert caught.value.stdout == "started\n"

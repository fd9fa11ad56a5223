# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Run the DataSurface platform bootstrap generator (the logic behind the datasurface_bootstrap module).

Flow: check the input (nothing runs before it passes); run
``python -m datasurface.cmd.platform generatePlatformBootstrap`` either as a process on the control
node or in a container, always from an empty working directory of its own (the model loader appends
the model directory to the *end* of sys.path and imports ``eco``, so an ``eco.py`` in the working
directory would win) and always into a fresh temporary output directory; classify failures (unknown
PSP, an older generator without ``--rte-name``, a model that does not load, timeout); compare the
generated ``<psp>/`` tree with ``output_dir/<psp>/`` file by file (sha256); then, outside check mode,
write added and changed files atomically and remove the ones the generator no longer writes.

Environment values may be secrets: they reach the generator through the environment only (for a
container, ``--env NAME`` with the value in the engine process's environment), never through argv,
and are scrubbed from everything this returns.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import traceback
import uuid

try:
    import yaml
except ImportError:  # pragma: no cover - PyYAML ships with ansible-core
    yaml = None
    YAML_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    YAML_IMPORT_ERROR = None

ENGINES = ("podman", "docker", "nerdctl")
GENERATOR_MODULE = "datasurface.cmd.platform"
GENERATOR_COMMAND = "generatePlatformBootstrap"
CONTAINER_MODEL = "/yellow/model"
CONTAINER_OUTPUT = "/yellow/output"
CONTAINER_WORKDIR = "/yellow/work"
BOOTSTRAP_MANIFEST = "kubernetes-bootstrap.yaml"
TAIL_LINES = 40
MESSAGE_LINES = 20
DIFF_LIMIT = 64 * 1024
MASK = "********"
JOB_ROLES = ("ring1_init", "model_merge", "reconcile_views")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MOUNT_UNSAFE = (":", ",", "\n")


class InvalidInput(Exception):
    """A module option is unusable; nothing has run."""

    def __init__(self, option: str, message: str):
        super().__init__("%s: %s" % (option, message))
        self.option = option


class GeneratorFailure(Exception):
    """The generator (or the engine running it) failed; ``kind`` says how."""

    def __init__(self, kind: str, message: str, rc: int | None = None, stdout: str = "", stderr: str = ""):
        super().__init__(message)
        self.kind = kind
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.result: dict = {}


class CommandTimeout(Exception):
    """The command did not finish in time; it has been killed."""

    def __init__(self, stdout: str, stderr: str):
        super().__init__("timed out")
        self.stdout = stdout
        self.stderr = stderr


# --- input ---------------------------------------------------------------------------------------

def _env_value(option: str, name: str, value) -> str:
    if value is None or isinstance(value, (dict, list, tuple, set)):
        raise InvalidInput(option, "%s: the value must be a string, number or boolean" % name)
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    if "\0" in text:
        raise InvalidInput(option, "%s: the value must not contain a NUL character" % name)
    return text


def _environment(option: str, values) -> dict:
    result = {}
    for name, value in (values or {}).items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise InvalidInput(option, "%r is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)" % (name,))
        result[name] = _env_value(option, name, value)
    return result


def _not_an_option(option: str, value: str | None) -> None:
    if value is not None and value.startswith("-"):
        raise InvalidInput(option, "must not start with '-' (it would be read as an option)")


def check_params(params: dict, which=shutil.which) -> dict:
    """Validate the module options; returns the plan (resolved paths, environment, warnings).

    Raises InvalidInput naming the option. Runs nothing.
    """
    runner = params["runner"]
    warnings = []
    psp = params["psp"]
    if not psp or not psp.strip():
        raise InvalidInput("psp", "must not be empty")
    if psp in (".", "..") or any(char in psp for char in ("/", "\\", "\0", "\n")):
        raise InvalidInput("psp", "%r is not a platform service provider name (no path separators, '.' or '..')" % psp)
    _not_an_option("psp", psp)
    rte_name = params.get("rte_name")
    if rte_name is not None:
        if not rte_name.strip():
            raise InvalidInput("rte_name", "must not be empty (omit it to not pass --rte-name)")
        if "\0" in rte_name or "\n" in rte_name:
            raise InvalidInput("rte_name", "must be a single line")
        _not_an_option("rte_name", rte_name)
    if params["ring_level"] < 0:
        raise InvalidInput("ring_level", "must be 0 or more")
    if params["timeout"] < 1:
        raise InvalidInput("timeout", "must be at least 1 (seconds)")

    model_dir = os.path.abspath(params["model_dir"])
    if not os.path.exists(model_dir):
        raise InvalidInput("model_dir", "%s does not exist" % model_dir)
    if not os.path.isdir(model_dir):
        raise InvalidInput("model_dir", "%s is not a directory" % model_dir)
    try:
        has_file = any(entry.is_file() for entry in os.scandir(model_dir))
    except OSError as exc:
        raise InvalidInput("model_dir", "cannot read %s: %s" % (model_dir, exc.strerror)) from None
    if not has_file:
        raise InvalidInput("model_dir", "%s holds no file: is the model checked out there?" % model_dir)

    output_dir = os.path.abspath(params["output_dir"])
    output_path = os.path.join(output_dir, psp)
    if os.path.lexists(output_dir) and not os.path.isdir(output_dir):
        raise InvalidInput("output_dir", "%s exists and is not a directory" % output_dir)
    if os.path.lexists(output_path) and not os.path.isdir(output_path):
        raise InvalidInput("output_dir", "%s exists and is not a directory" % output_path)

    secret_env = _environment("environment", params.get("environment"))
    plain_env = _environment("plain_environment", params.get("plain_environment"))
    both = sorted(set(secret_env) & set(plain_env))
    if both:
        raise InvalidInput("plain_environment", "%s also set in environment" % ", ".join(both))

    plan = {
        "runner": runner,
        "psp": psp,
        "rte_name": rte_name,
        "ring_level": params["ring_level"],
        "model_dir": model_dir,
        "output_dir": output_dir,
        "output_path": output_path,
        "secret_env": secret_env,
        "plain_env": plain_env,
        "timeout": params["timeout"],
        "python": params["python"],
        "warnings": warnings,
        "engine": None,
        "engine_name": None,
    }
    if runner == "python":
        for option in ("image", "container_user"):
            if params.get(option) is not None:
                warnings.append("%s is ignored with runner=python" % option)
        python = params["python"]
        _not_an_option("python", python)
        resolved = os.path.abspath(python) if os.sep in python else which(python)
        if not resolved or not os.path.isfile(resolved) or not os.access(resolved, os.X_OK):
            raise InvalidInput("python", "%r is not an executable file%s" % (python, "" if os.sep in python else " on PATH"))
        plan["python_path"] = resolved
        return plan

    image = params.get("image")
    if not image or not image.strip():
        raise InvalidInput("image", "required with runner=container")
    _not_an_option("image", image)
    for option in ("container_user", "network"):
        _not_an_option(option, params.get(option))
    if params.get("container_user") is not None and not params["container_user"].strip():
        raise InvalidInput("container_user", "must not be empty (omit it to use the image's user)")
    if any(char in model_dir for char in _MOUNT_UNSAFE):
        raise InvalidInput("model_dir", "%s cannot be mounted into a container (it contains ':' or ',')" % model_dir)
    if any(char in tempfile.gettempdir() for char in _MOUNT_UNSAFE):
        raise InvalidInput("runner", "the temporary directory %s cannot be mounted into a container (set TMPDIR)" % tempfile.gettempdir())
    if not params["python"] or params["python"].strip() != params["python"]:
        raise InvalidInput("python", "must be the interpreter's name or path inside the image")
    _not_an_option("python", params["python"])
    candidates = ENGINES if params["engine"] == "auto" else (params["engine"],)
    for name in candidates:
        path = which(name)
        if path:
            plan["engine"], plan["engine_name"] = path, name
            break
    else:
        raise InvalidInput("engine", "%s not found on PATH" % (" or ".join(candidates),))
    plan.update(image=image, pull=params["pull"], network=params.get("network"), container_user=params.get("container_user"))
    return plan


# --- command lines -------------------------------------------------------------------------------

def generator_args(model: str, output: str, psp: str, rte_name: str | None, ring_level: int) -> list:
    """The generator's arguments after the interpreter (``-m datasurface.cmd.platform ...``)."""
    args = ["-m", GENERATOR_MODULE, GENERATOR_COMMAND, "--ringLevel", str(ring_level), "--model", model,
            "--output", output, "--psp", psp]
    if rte_name is not None:
        args += ["--rte-name", rte_name]
    return args


def python_argv(plan: dict, output_tmp: str) -> list:
    return [plan["python_path"]] + generator_args(plan["model_dir"], output_tmp, plan["psp"], plan["rte_name"], plan["ring_level"])


def container_argv(plan: dict, name: str, output_tmp: str, work_tmp: str) -> list:
    """``<engine> run ...``: model read-only, fresh output and an empty working directory mounted.

    Environment variables are named only (``--env NAME``): the engine takes each value from its own
    environment, so no value is ever part of a command line.
    """
    argv = [plan["engine"], "run", "--rm", "--name", name, "--pull=%s" % plan["pull"]]
    if plan["network"]:
        argv.append("--network=%s" % plan["network"])
    if plan["container_user"]:
        argv += ["--user", plan["container_user"]]
    for env_name in sorted(list(plan["plain_env"]) + list(plan["secret_env"])):
        argv += ["--env", env_name]
    argv += [
        "--volume", "%s:%s:ro" % (plan["model_dir"], CONTAINER_MODEL),
        "--volume", "%s:%s" % (output_tmp, CONTAINER_OUTPUT),
        "--volume", "%s:%s" % (work_tmp, CONTAINER_WORKDIR),
        "--workdir", CONTAINER_WORKDIR,
        plan["image"],
        plan["python"],
    ]
    return argv + generator_args(CONTAINER_MODEL, CONTAINER_OUTPUT, plan["psp"], plan["rte_name"], plan["ring_level"])


def process_environment(plan: dict, base: dict | None = None) -> dict:
    """The environment of the process started (the generator itself, or the container engine)."""
    env = dict(os.environ if base is None else base)
    env.update(plan["plain_env"])
    env.update(plan["secret_env"])
    if plan["runner"] == "python":
        # Importing the model must not leave __pycache__ behind in the checkout.
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


# --- running -------------------------------------------------------------------------------------

def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def run_command(argv: list, env: dict, cwd: str, timeout: float) -> tuple:
    """Run ``argv`` in its own session; returns (rc, stdout, stderr). Raises CommandTimeout."""
    process = subprocess.Popen(  # pylint: disable=consider-using-with
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        stdout, stderr = process.communicate()
        raise CommandTimeout(stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")) from None
    return process.returncode, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")


def scrub(text: str, secrets) -> str:
    """``text`` with every secret value replaced (longest first)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def tail(text: str, count: int) -> list:
    lines = text.splitlines()
    return lines[-count:] if count else []


def _last_lines(stdout: str, stderr: str, count: int = MESSAGE_LINES) -> str:
    lines = tail(stderr, count) or tail(stdout, count)
    return "\n".join(lines) if lines else "(no output)"


def classify_failure(rc: int, stdout: str, stderr: str, plan: dict) -> GeneratorFailure:
    """The failure a non-zero exit of the generator (or of the engine running it) stands for."""
    text = stderr + "\n" + stdout
    where = plan["model_dir"]
    if plan["runner"] == "container":
        where += " (mounted at %s)" % CONTAINER_MODEL
    if rc == 2 and "unrecognized arguments" in text and "--rte-name" in text:
        return GeneratorFailure(
            "rte_name_unsupported",
            "this generator does not know --rte-name (an older DataSurface version?): unset rte_name or use a newer image",
            rc, stdout, stderr)
    marker = "Failed to load ecosystem"
    if marker in text:
        lines = (stderr + "\n" + stdout).splitlines()
        first = next(line for line in lines if marker in line)
        last = tail(stderr, MESSAGE_LINES) or tail(stdout, MESSAGE_LINES)
        shown = last if first in last else [first, "..."] + last
        return GeneratorFailure(
            "model_load",
            "the generator could not load the model in %s; its last lines:\n%s" % (where, "\n".join(shown)),
            rc, stdout, stderr)
    if "No module named" in text and GENERATOR_MODULE.split(".", 1)[0] in text:
        hint = ("set PYTHONPATH in plain_environment or use the interpreter of an environment with DataSurface installed"
                if plan["runner"] == "python" else "is image a DataSurface image, and python its interpreter?")
        return GeneratorFailure(
            "not_installed", "%s cannot import %s (%s); last lines:\n%s" % (
                plan["python"], GENERATOR_MODULE, hint, _last_lines(stdout, stderr)), rc, stdout, stderr)
    if rc == 2 and ("usage:" in text or "error:" in text):
        return GeneratorFailure(
            "arguments", "the generator rejected its command line (exit 2); last lines:\n%s" % _last_lines(stdout, stderr),
            rc, stdout, stderr)
    if plan["runner"] == "container" and rc == 125:
        return GeneratorFailure(
            "engine", "%s could not run the container (exit 125; image %s, pull=%s); last lines:\n%s" % (
                plan["engine_name"], plan["image"], plan["pull"], _last_lines(stdout, stderr)), rc, stdout, stderr)
    if plan["runner"] == "container" and rc in (126, 127):
        return GeneratorFailure(
            "engine", "the image %s cannot run %r (exit %s); last lines:\n%s" % (
                plan["image"], plan["python"], rc, _last_lines(stdout, stderr)), rc, stdout, stderr)
    return GeneratorFailure(
        "error", "the generator failed (exit %s); last lines:\n%s" % (rc, _last_lines(stdout, stderr)), rc, stdout, stderr)


# --- output trees --------------------------------------------------------------------------------

def _sha256(path: str) -> tuple:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def scan_tree(root: str, strict: bool) -> dict:
    """Files under ``root`` as {relative name ('/'-separated): {"sha256", "size"}}.

    With ``strict`` (generated output) anything but directories and regular files is refused: a
    symlink written by a container could point at a file of the control node. Without it
    (the existing output directory) such entries are listed with sha256 None, so they are replaced
    or removed.
    """
    found = {}
    if not os.path.isdir(root):
        return found
    for directory, dirnames, filenames in os.walk(root, onerror=_raise):
        relative_dir = os.path.relpath(directory, root)
        for name in sorted(dirnames):
            full = os.path.join(directory, name)
            if os.path.islink(full):
                if strict:
                    raise GeneratorFailure("invalid_output", "the generator wrote a symlink: %s" % _join(relative_dir, name))
                found[_join(relative_dir, name)] = {"sha256": None, "size": None}
        for name in filenames:
            full = os.path.join(directory, name)
            relative = _join(relative_dir, name)
            mode = os.lstat(full).st_mode
            if not stat.S_ISREG(mode):
                if strict:
                    what = "a symlink" if stat.S_ISLNK(mode) else "something that is not a regular file"
                    raise GeneratorFailure("invalid_output", "the generator wrote %s: %s" % (what, relative))
                found[relative] = {"sha256": None, "size": None}
                continue
            sha, size = _sha256(full)
            found[relative] = {"sha256": sha, "size": size}
    return found


def _raise(error: OSError) -> None:
    raise error


def _join(relative_dir: str, name: str) -> str:
    return name if relative_dir == "." else relative_dir.replace(os.sep, "/") + "/" + name


def compare_trees(new: dict, old: dict) -> list:
    """File entries (name, sha256, size, status) for the union of both trees, sorted by name."""
    entries = []
    for name in sorted(set(new) | set(old)):
        if name not in old:
            status, info = "added", new[name]
        elif name not in new:
            status, info = "removed", old[name]
        else:
            info = new[name]
            status = "unchanged" if old[name]["sha256"] == info["sha256"] else "changed"
        entries.append({"name": name, "sha256": info["sha256"], "size": info["size"], "status": status})
    return entries


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _prepare_parent(dest_root: str, name: str) -> str:
    """Create the directories above ``dest_root/name``; a file (or link) in the way is removed."""
    parent = dest_root
    for part in name.split("/")[:-1]:
        parent = os.path.join(parent, part)
        if os.path.islink(parent) or (os.path.lexists(parent) and not os.path.isdir(parent)):
            os.unlink(parent)
        if not os.path.isdir(parent):
            os.mkdir(parent)
    return parent


def _atomic_copy(source: str, target: str, default_mode: int) -> None:
    mode = default_mode
    if os.path.islink(target):
        os.unlink(target)
    elif os.path.isdir(target):
        shutil.rmtree(target)
    elif os.path.exists(target):
        mode = stat.S_IMODE(os.stat(target).st_mode)
    handle, temporary = tempfile.mkstemp(prefix=".%s.yellow-" % os.path.basename(target), dir=os.path.dirname(target))
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as data:
            shutil.copyfileobj(data, out)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def apply_changes(new_root: str, dest_root: str, entries: list) -> None:
    """Make ``dest_root`` hold what ``new_root`` holds: write new and changed files, then remove stale ones."""
    os.makedirs(dest_root, exist_ok=True)
    default_mode = 0o666 & ~_umask()
    for entry in entries:
        if entry["status"] in ("added", "changed"):
            parent = _prepare_parent(dest_root, entry["name"])
            _atomic_copy(os.path.join(new_root, *entry["name"].split("/")), os.path.join(parent, entry["name"].split("/")[-1]),
                         default_mode)
    emptied = set()
    for entry in entries:
        if entry["status"] != "removed":
            continue
        target = os.path.join(dest_root, *entry["name"].split("/"))
        if os.path.islink(target) or (os.path.lexists(target) and not os.path.isdir(target)):
            os.unlink(target)
        parent = os.path.dirname(target)
        while parent != dest_root and parent.startswith(dest_root + os.sep):
            emptied.add(parent)
            parent = os.path.dirname(parent)
    for directory in sorted(emptied, key=len, reverse=True):
        if os.path.isdir(directory) and not os.path.islink(directory) and not os.listdir(directory):
            os.rmdir(directory)


def _read_text(path: str):
    """The file as text for a diff, or None when it is binary."""
    with open(path, "rb") as handle:
        data = handle.read(DIFF_LIMIT + 1)
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _diff_side(path: str | None, entry: dict) -> str:
    if path is None or not os.path.isfile(path) or os.path.islink(path):
        return ""
    if entry["size"] is not None and entry["size"] > DIFF_LIMIT:
        return "(%s bytes, larger than %s: not shown; sha256 %s)\n" % (entry["size"], DIFF_LIMIT, entry["sha256"])
    text = _read_text(path)
    return "(binary file; sha256 %s)\n" % entry["sha256"] if text is None else text


def build_diff(new_root: str, dest_root: str, entries: list, old: dict, new: dict) -> list:
    """Per-file before/after (text up to DIFF_LIMIT bytes) for every added, changed or removed file."""
    diffs = []
    for entry in entries:
        if entry["status"] == "unchanged":
            continue
        name = entry["name"]
        parts = name.split("/")
        before_path = os.path.join(dest_root, *parts) if name in old else None
        after_path = os.path.join(new_root, *parts) if name in new else None
        diffs.append({
            "before_header": os.path.join(dest_root, *parts) if before_path else "(absent)",
            "after_header": os.path.join(dest_root, *parts) if after_path else "(removed)",
            "before": _diff_side(before_path, dict(old.get(name, {}), name=name)) if before_path else "",
            "after": _diff_side(after_path, dict(new.get(name, {}), name=name)) if after_path else "",
        })
    return diffs


# --- what came out -------------------------------------------------------------------------------

def job_role(file_name: str, job_name: str | None) -> str:
    """ring1_init, model_merge, reconcile_views or other: from the file name, else the Job's name."""
    for text in (file_name, job_name or ""):
        normalized = text.lower().replace("-", "_")
        for role in JOB_ROLES:
            if role in normalized:
                return role
    return "other"


def _get(document, *path):
    for key in path:
        if isinstance(key, int):
            if not isinstance(document, list) or len(document) <= key:
                return None
        elif not isinstance(document, dict):
            return None
        document = document[key] if isinstance(key, int) else document.get(key)
    return document


def load_documents(path: str, name: str) -> list:
    if yaml is None:
        raise GeneratorFailure("error", "PyYAML is needed to read the generated manifests")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, "rb") as handle:
            return [document for document in yaml.load_all(handle, Loader=loader) if document is not None]  # nosec B506 - safe loader
    except yaml.YAMLError as exc:
        raise GeneratorFailure("invalid_output", "the generated file %s is not valid YAML: %s" % (name, exc)) from None


def describe_output(new_root: str, new: dict, output_path: str) -> dict:
    """jobs, dag_files, bootstrap_manifest and resources of a generated tree (paths as in output_path)."""
    jobs, resources = [], []
    bootstrap_manifest = None
    for name in sorted(new):
        final = os.path.join(output_path, *name.split("/"))
        base = name.split("/")[-1]
        if not base.endswith((".yaml", ".yml")):
            continue
        documents = load_documents(os.path.join(new_root, *name.split("/")), name)
        for document in documents:
            if not isinstance(document, dict) or document.get("kind") != "Job":
                continue
            job_name = _get(document, "metadata", "name")
            jobs.append({
                "file": final,
                "name": job_name,
                "namespace": _get(document, "metadata", "namespace"),
                "image": _get(document, "spec", "template", "spec", "containers", 0, "image"),
                "role": job_role(base, job_name),
            })
        if name == BOOTSTRAP_MANIFEST:
            bootstrap_manifest = final
            for document in documents:
                if isinstance(document, dict):
                    resources.append({
                        "api_version": document.get("apiVersion"),
                        "kind": document.get("kind"),
                        "name": _get(document, "metadata", "name"),
                        "namespace": _get(document, "metadata", "namespace"),
                    })
    dag_files = [os.path.join(output_path, *name.split("/")) for name in sorted(new) if name.endswith("_dag.py")]
    return {"jobs": jobs, "dag_files": dag_files, "bootstrap_manifest": bootstrap_manifest, "resources": resources}


# --- the whole run -------------------------------------------------------------------------------

class _Scratch:
    """Temporary output and working directories; emptied again even when a root container wrote them."""

    def __init__(self, plan: dict, runner):
        self.plan = plan
        self.runner = runner
        self.base = tempfile.mkdtemp(prefix="yellow-bootstrap-")
        self.output = os.path.join(self.base, "output")
        self.work = os.path.join(self.base, "work")
        for path in (self.output, self.work):
            os.mkdir(path)
            if plan["runner"] == "container":
                # The image's user may not be ours; the 0700 parent keeps other local users out.
                os.chmod(path, 0o777)  # nosec B103

    def open_up(self) -> None:
        """Make what the container wrote readable and removable by us (it may be another uid)."""
        plan = self.plan
        argv = [plan["engine"], "run", "--rm", "--pull=never", "--network=none", "--user", "0:0",
                "--volume", "%s:%s" % (self.output, CONTAINER_OUTPUT), "--volume", "%s:%s" % (self.work, CONTAINER_WORKDIR),
                "--entrypoint", "chmod", plan["image"], "-R", "a+rwX", CONTAINER_OUTPUT, CONTAINER_WORKDIR]
        try:
            self.runner(argv, process_environment(dict(plan, plain_env={}, secret_env={})), self.base, 120)
        except (CommandTimeout, OSError):
            pass

    def scan(self, psp: str) -> dict:
        try:
            return scan_tree(os.path.join(self.output, psp), strict=True)
        except PermissionError:
            if self.plan["runner"] != "container":
                raise
            self.open_up()
            return scan_tree(os.path.join(self.output, psp), strict=True)

    def cleanup(self) -> None:
        try:
            shutil.rmtree(self.base)
        except PermissionError:
            if self.plan["runner"] == "container":
                self.open_up()
            shutil.rmtree(self.base, ignore_errors=True)
        except FileNotFoundError:
            pass


def _stop_container(plan: dict, name: str, runner) -> None:
    env = process_environment(dict(plan, plain_env={}, secret_env={}))
    for argv in ([plan["engine"], "kill", name], [plan["engine"], "rm", "--force", name]):
        try:
            runner(argv, env, tempfile.gettempdir(), 60)
        except (CommandTimeout, OSError):
            pass


def generate(plan: dict, check_mode: bool, diff_mode: bool, runner=run_command, clock=time.monotonic) -> dict:
    """Run the generator and bring ``plan['output_path']`` up to date; returns the module result.

    Raises GeneratorFailure (with the command, output tails and rc attached by the caller's use of
    ``failure_result``).
    """
    secrets = list(plan["secret_env"].values())
    scratch = _Scratch(plan, runner)
    started = clock()
    try:
        if plan["runner"] == "container":
            name = "yellow-bootstrap-%s" % uuid.uuid4().hex[:12]
            argv = container_argv(plan, name, scratch.output, scratch.work)
        else:
            name = None
            argv = python_argv(plan, scratch.output)
        env = process_environment(plan)
        result = {"command": argv, "output_path": plan["output_path"], "runner": plan["runner"], "engine": plan["engine_name"]}
        try:
            rc, stdout, stderr = runner(argv, env, scratch.work, plan["timeout"])
        except CommandTimeout as exc:
            if name:
                _stop_container(plan, name, runner)
            failure = GeneratorFailure(
                "timeout", "the generator did not finish within timeout=%ss and was killed; last lines:\n%s" % (
                    plan["timeout"], _last_lines(exc.stdout, exc.stderr)), None, exc.stdout, exc.stderr)
            raise _attach(failure, result, secrets) from None
        stdout, stderr = scrub(stdout, secrets), scrub(stderr, secrets)
        result.update(rc=rc, stdout_lines=tail(stdout, TAIL_LINES), stderr_lines=tail(stderr, TAIL_LINES),
                      generator_seconds=round(clock() - started, 3))
        if rc != 0:
            raise _attach(classify_failure(rc, stdout, stderr, plan), result, secrets)

        psp_root = os.path.join(scratch.output, plan["psp"])
        try:
            new = scratch.scan(plan["psp"])
        except GeneratorFailure as exc:
            raise _attach(exc, result, secrets) from None
        if not new:
            wrote = sorted(os.listdir(scratch.output)) if os.path.isdir(scratch.output) else []
            message = ("the generator wrote nothing for psp %r: the model in %s has no platform service provider of that name"
                       % (plan["psp"], plan["model_dir"]))
            if wrote:
                message += " (it wrote %s instead)" % ", ".join(wrote)
            raise _attach(GeneratorFailure("unknown_psp", message, rc, stdout, stderr), result, secrets)
        try:
            result.update(describe_output(psp_root, new, plan["output_path"]))
        except GeneratorFailure as exc:
            raise _attach(exc, result, secrets) from None

        try:
            old = scan_tree(plan["output_path"], strict=False)
            entries = compare_trees(new, old)
            changed = any(entry["status"] != "unchanged" for entry in entries)
            if diff_mode and changed:
                result["diff"] = build_diff(psp_root, plan["output_path"], entries, old, new)
            if changed and not check_mode:
                apply_changes(psp_root, plan["output_path"], entries)
        except OSError as exc:
            failure = GeneratorFailure("output", "cannot update %s: %s" % (plan["output_path"], exc), rc, stdout, stderr)
            raise _attach(failure, result, secrets) from None
        for entry in entries:
            entry["path"] = os.path.join(plan["output_path"], *entry["name"].split("/"))
        result.update(changed=changed, files=entries)
        return result
    finally:
        scratch.cleanup()


def _attach(failure: GeneratorFailure, result: dict, secrets: list) -> GeneratorFailure:
    """Carry what the module reports on failure (command, rc, output tails) on the exception, scrubbed."""
    failure.args = (scrub(str(failure), secrets),)
    failure.result = dict(
        result,
        rc=failure.rc,
        stdout_lines=tail(scrub(failure.stdout, secrets), TAIL_LINES),
        stderr_lines=tail(scrub(failure.stderr, secrets), TAIL_LINES),
        failure_kind=failure.kind,
    )
    return failure

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Stand-in for ``python -m datasurface.cmd.platform generatePlatformBootstrap``.

Same command line and the behaviours the datasurface_bootstrap module has to cope with (see
tests/generator_stub/README.md): output in ``OUTPUT/<PSP>/`` with files prefixed by the lower-cased
PSP name; exit 0 and nothing written for an unknown PSP; the model loaded by appending ``--model``
to the *end* of sys.path and importing ``eco`` (so an ``eco.py`` in the working directory wins);
"Failed to load ecosystem from <dir>" plus a traceback and exit 1 when that fails.

The Jobs follow the public generator 0.0.57's contract (/work/shared/REAL-CLUSTER.md): they read Secret
``git`` key ``token`` and Secret ``postgres`` keys ``postgres_USER`` / ``postgres_PASSWORD``, mount PVC
``git-cache-pvc``, have ``backoffLimit: 3`` and run the image the model's PSP names (the real sample
model's ``datasurface/datasurface:latest`` when it names none), with the model's image pull secret if any.

Knobs (environment variables; none of them exists in the real generator):
  DATASURFACE_STUB_LEGACY=1   behave like an older release: no --rte-name option (argparse exits 2
                              with "unrecognized arguments"), no model-merge job, no MCP server
  DATASURFACE_STUB_SLEEP=N    sleep N seconds before doing anything (timeout tests)
  DATASURFACE_STUB_ECHO=A,B   print "env A=<value>" for the named variables (a generator that logs
                              its environment; secrecy tests)

The runtime commands the generated Jobs run (handleRing1Init, handleModelMerge, reconcileViews) clone
the model from --git-repo into the git cache, load it and act on the merge database the model's PSP
names (``merge_store``); see "the runtime commands" below and tests/generator_stub/README.md.

Standard library only, plus psycopg2 (Debian's python3-psycopg2) for the runtime commands; the output is
deterministic (no timestamps) and depends on the model, on --rte-name and on --ringLevel.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import subprocess
import sys
import time
import traceback
import urllib.parse

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}
AIRFLOW_IMAGE = "apache/airflow:2.11.0"
GIT_CACHE = "/cache/git-models"
# The public generator 0.0.57's defaults: the image its sample model names, and the Secret keys its Jobs
# read (credential name + "_USER"/"_PASSWORD" for the database, key "token" of the git Secret).
DEFAULT_IMAGE = "datasurface/datasurface:latest"
BACKOFF_LIMIT = 3


def legacy() -> bool:
    return os.environ.get("DATASURFACE_STUB_LEGACY", "") not in ("", "0")


# --- a tiny YAML writer (block style; strings that could be read as anything else are quoted) -----

def _scalar(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text)


def _emit(value, indent: int, lines: list) -> None:
    pad = "  " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_scalar(key)}:")
                _emit(item, indent + 1, lines)
            elif isinstance(item, (dict, list)):
                lines.append(f"{pad}{_scalar(key)}: {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines.append(f"{pad}{_scalar(key)}: {_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested: list = []
                _emit(item, indent + 1, nested)
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")


def to_yaml(*documents) -> str:
    out = []
    for document in documents:
        lines: list = []
        _emit(document, 0, lines)
        out.append("---\n" + "\n".join(lines) + "\n")
    return "".join(out)


# --- the model ------------------------------------------------------------------------------------

def load_ecosystem(model_dir: str) -> dict:
    """Like the real loader: model directory at the END of sys.path, then ``import eco``."""
    print(f"Loading ecosystem from {model_dir}")
    sys.path.append(model_dir)
    try:
        import eco  # pylint: disable=import-outside-toplevel,import-error

        return eco.createEcosystem()
    except Exception:  # pylint: disable=broad-except
        print(f"Failed to load ecosystem from {model_dir}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)


# --- the artifacts --------------------------------------------------------------------------------

class Platform:
    def __init__(self, psp: str, cfg: dict, rte_name, ring_level: int):
        self.psp = psp
        self.k8s = psp.lower().replace("_", "-")
        self.prefix = psp.lower()
        self.namespace = cfg["namespace"]
        self.image = cfg.get("image") or DEFAULT_IMAGE
        self.pull_secret = cfg.get("image_pull_secret")
        self.postgres_secret = cfg.get("postgres_secret", "postgres")
        self.git_secret = cfg.get("git_secret", "git")
        self.git_repo = cfg["git_repo"]
        self.schedule = cfg.get("dag_schedule", "@hourly")
        self.mcp = bool(cfg.get("mcp", False)) and not legacy()
        self.rte_name = rte_name
        self.ring_level = ring_level

    def labels(self, component: str) -> dict:
        return {"app.kubernetes.io/name": component, "app.kubernetes.io/part-of": self.k8s, "datasurface.io/psp": self.psp}

    def platform_args(self, command: str) -> list:
        args = [command, "--model", GIT_CACHE + "/model", "--git-repo", self.git_repo, "--psp", self.psp]
        if self.rte_name:
            args += ["--rte-name", self.rte_name]
        return args

    def container(self, name: str, image: str, command: list, args: list) -> dict:
        return {
            "name": name,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": command,
            "args": args,
            "env": [self.secret_env(self.postgres_secret, f"{self.postgres_secret}_USER"),
                    self.secret_env(self.postgres_secret, f"{self.postgres_secret}_PASSWORD"),
                    self.secret_env(self.git_secret, "token", f"{self.git_secret}_TOKEN")],
            "envFrom": [{"configMapRef": {"name": f"{self.k8s}-logging-config"}}],
            "volumeMounts": [{"name": "git-cache", "mountPath": GIT_CACHE}],
        }

    @staticmethod
    def secret_env(secret: str, key: str, name: str | None = None) -> dict:
        """An env var from a Secret key; the variable is named as the key unless ``name`` says otherwise."""
        return {"name": name or key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}

    def pod_spec(self, containers: list, restart: str) -> dict:
        spec = {"serviceAccountName": f"{self.k8s}-sa", "restartPolicy": restart}
        if self.pull_secret:
            spec["imagePullSecrets"] = [{"name": self.pull_secret}]
        spec["containers"] = containers
        spec["volumes"] = [{"name": "git-cache", "persistentVolumeClaim": {"claimName": "git-cache-pvc"}}]
        return spec

    def job(self, name: str, command: str) -> dict:
        container = self.container(name, self.image, ["python", "-m", "datasurface.cmd.platform"], self.platform_args(command))
        # Run from the cache volume: the image's own working directory may hold an eco.py (the stand-in
        # image's trap), which `python -m` would import instead of the cloned model.
        container["workingDir"] = GIT_CACHE
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": self.namespace, "labels": self.labels(name)},
            "spec": {
                "backoffLimit": BACKOFF_LIMIT,
                "ttlSecondsAfterFinished": 86400,
                "template": {"metadata": {"labels": self.labels(name)}, "spec": self.pod_spec([container], "Never")},
            },
        }

    def deployment(self, name: str, image: str, command: list, args: list, port: int) -> dict:
        container = self.container(name, image, command, args)
        container["ports"] = [{"name": "http", "containerPort": port}]
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": self.namespace, "labels": self.labels(name)},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                "template": {"metadata": {"labels": self.labels(name)}, "spec": self.pod_spec([container], "Always")},
            },
        }

    def service(self, name: str, port: int, node_port: bool = False) -> dict:
        spec = {
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": port, "targetPort": port, "protocol": "TCP"}],
        }
        if node_port:
            spec = {"type": "NodePort", **spec}
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": self.namespace, "labels": self.labels(name)},
            "spec": spec,
        }

    def pvc(self, name: str, size: str) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": self.namespace, "labels": self.labels(name)},
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": size}}},
        }

    def bootstrap(self) -> str:
        sa, role = f"{self.k8s}-sa", f"{self.k8s}-role"
        meta = {"namespace": self.namespace, "labels": self.labels(self.k8s)}
        documents = [
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, **meta}},
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": role, **meta},
                "rules": [
                    {"apiGroups": [""], "resources": ["pods", "pods/log", "configmaps", "secrets"], "verbs": ["get", "list", "watch"]},
                    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "watch", "create", "delete"]},
                ],
            },
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": f"{self.k8s}-rolebinding", **meta},
                "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": self.namespace}],
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
            },
            self.pvc("git-cache-pvc", "5Gi"),
            self.pvc(f"{self.k8s}-logs-pvc", "2Gi"),
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"{self.k8s}-logging-config", **meta},
                "data": {
                    "DATASURFACE_LOG_LEVEL": "INFO",
                    "DATASURFACE_LOG_FORMAT": "json",
                    "DATASURFACE_PSP": self.psp,
                    "DATASURFACE_RTE_NAME": self.rte_name or "",
                    "DATASURFACE_RING_LEVEL": str(self.ring_level),
                },
            },
            # Its own Airflow: what a Helm-installed Airflow conflicts with.
            self.deployment(f"{self.k8s}-airflow-scheduler", AIRFLOW_IMAGE, ["airflow"], ["scheduler"], 8793),
            self.deployment(f"{self.k8s}-airflow-webserver", AIRFLOW_IMAGE, ["airflow"], ["webserver"], 8080),
            self.service(f"{self.k8s}-airflow-webserver", 8080),
        ]
        if self.mcp:
            documents += [
                self.deployment(f"{self.k8s}-mcp", self.image, ["python", "-m", "datasurface.cmd.mcp"], self.platform_args("serve"), 8000),
                self.service(f"{self.k8s}-mcp", 8000, node_port=True),
            ]
        return "# Kubernetes bootstrap for " + self.psp + " (DataSurface stand-in generator)\n" + to_yaml(*documents)

    def dag(self, jobs: dict) -> str:
        tasks = []
        for task_id, (_file, name, command) in jobs.items():
            tasks.append(
                f"    {task_id.replace('-', '_')} = KubernetesPodOperator(\n"
                f"        task_id={task_id!r},\n"
                f"        name={name!r},\n"
                f"        namespace=NAMESPACE,\n"
                f"        image=IMAGE,\n"
                f"        cmds=['python', '-m', 'datasurface.cmd.platform'],\n"
                f"        arguments={self.platform_args(command)!r},\n"
                f"        service_account_name={self.k8s + '-sa'!r},\n"
                f"    )\n"
            )
        return (
            f'"""Infrastructure DAG for {self.psp} (DataSurface stand-in generator)."""\n\n'
            "from datetime import datetime\n\n"
            "from airflow import DAG\n"
            "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator\n\n"
            f"PSP_NAME = {self.psp!r}\n"
            f"NAMESPACE = {self.namespace!r}\n"
            f"IMAGE = {self.image!r}\n"
            f"RTE_NAME = {self.rte_name!r}\n"
            f"RING_LEVEL = {self.ring_level!r}\n"
            f"SCHEDULE = {self.schedule!r}\n\n"
            f"with DAG(\n"
            f"    dag_id={self.k8s + '-infrastructure'!r},\n"
            "    schedule=SCHEDULE,\n"
            "    start_date=datetime(2025, 1, 1),\n"
            "    catchup=False,\n"
            "    tags=['datasurface', PSP_NAME],\n"
            ") as dag:\n" + "".join(tasks)
        )

    def files(self) -> dict:
        jobs = {"ring1-init": (f"{self.prefix}_ring1_init_job.yaml", f"{self.k8s}-ring1-init", "handleRing1Init")}
        if not legacy():
            jobs["model-merge"] = (f"{self.prefix}_model_merge_job.yaml", f"{self.k8s}-model-merge-job", "handleModelMerge")
        jobs["reconcile-views"] = (f"{self.prefix}_reconcile_views_job.yaml", f"{self.k8s}-reconcile-views-job", "reconcileViews")
        out = {f"{self.prefix}_infrastructure_dag.py": self.dag(jobs), "kubernetes-bootstrap.yaml": self.bootstrap()}
        for file_name, name, command in jobs.values():
            out[file_name] = to_yaml(self.job(name, command))
        return out


# --- the runtime commands the generated Jobs run --------------------------------------------------
#
#   python -m datasurface.cmd.platform handleRing1Init|handleModelMerge|reconcileViews \
#       --model /cache/git-models/model --git-repo URL --psp PSP [--rte-name N]
#
# Each one clones (or updates) the model from --git-repo into --model (the git-cache volume), loads it
# with the same loader as generation, and connects to the merge database the model's PSP names
# (``merge_store``) with the credentials of the Job's environment (``<postgres_secret>_USER`` /
# ``_PASSWORD``); git gets the token (``<git_secret>_TOKEN``) from a credential helper that reads it from
# the environment: never in an argument, a URL or a file. Any failure is one line ``ERROR: ...`` on
# stderr and exit 1 (the last log line, which is what k8s_job reports of a failed Job's pod).

RUNTIME_COMMANDS = ("handleRing1Init", "handleModelMerge", "reconcileViews")
# The token is handed to git's credential helper under this name (a secret's name may hold a `-`,
# which a shell variable cannot); git's own environment only, not the process's.
_TOKEN_VAR = "DATASURFACE_STUB_GIT_TOKEN"
# git asks its credential helper for the user and the token: the URL's user if it names one, else a
# placeholder (token-authenticated hosts such as GitHub and GitLab take any user name with a token).
# `printf` and `echo` are shell builtins, so the token is in no process's arguments.
_CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || return 0; user=; '
    'while IFS= read -r line && [ -n "$line" ]; do case "$line" in username=*) user=${line#username=};; esac; done; '
    '[ -n "$user" ] || echo username=x-access-token; '
    f'printf "password=%s\\n" "${_TOKEN_VAR}"; }}; f'
)
GIT_TIMEOUT = 600
DB_CONNECT_TIMEOUT = 10


class JobError(Exception):
    """A runtime command's failure: the message is the one line the Job's log ends with."""


def say(command: str, message: str) -> None:
    print(f"{command}: {message}", flush=True)


def public_url(url: str) -> str:
    """``url`` without any user information (for messages and the merge record)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return url


def git_token(environ) -> tuple:
    """The git token of the Job's environment: ``git_TOKEN`` (Secret ``git``), else the one ``*_TOKEN``."""
    if environ.get("git_TOKEN"):
        return "git_TOKEN", environ["git_TOKEN"]
    found = sorted(name for name, value in environ.items() if name.endswith("_TOKEN") and value and name != _TOKEN_VAR)
    if len(found) == 1:
        return found[0], environ[found[0]]
    if not found:
        raise JobError("no git token in the environment: the Job sets <git secret>_TOKEN (Secret git, key token)")
    raise JobError(f"several git tokens in the environment ({', '.join(found)}): cannot tell which one is the model repository's")


class Git:
    """git for the model cache, the token through the credential helper (GIT_CONFIG_* environment)."""

    def __init__(self, url: str, token: str, secrets: tuple):
        self.url = url
        self.secrets = secrets
        dropped = ("GIT_ASKPASS", "SSH_ASKPASS", "GIT_CONFIG_COUNT", "GIT_CONFIG_PARAMETERS")
        env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))}
        env.update({
            "GIT_TERMINAL_PROMPT": "0",
            _TOKEN_VAR: token,
            # An empty credential.helper first drops every helper of the system/global configuration (a
            # `store` helper would write the token to disk); then ours. The cache volume belongs to
            # whichever uid cloned it first: trust it.
            "GIT_CONFIG_COUNT": "3",
            "GIT_CONFIG_KEY_0": "credential.helper", "GIT_CONFIG_VALUE_0": "",
            "GIT_CONFIG_KEY_1": "credential.helper", "GIT_CONFIG_VALUE_1": _CREDENTIAL_HELPER,
            "GIT_CONFIG_KEY_2": "safe.directory", "GIT_CONFIG_VALUE_2": "*",
            # A stalled transfer fails instead of hanging the Job.
            "GIT_HTTP_LOW_SPEED_LIMIT": "1", "GIT_HTTP_LOW_SPEED_TIME": "60",
        })
        self.env = env

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def __call__(self, *args: str, cwd: str | None = None, network: bool = False) -> str:
        try:
            result = subprocess.run(["git", *args], cwd=cwd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                                    text=True, timeout=GIT_TIMEOUT, check=False)
        except FileNotFoundError as exc:
            raise JobError("git is not installed in this image") from exc
        except subprocess.TimeoutExpired as exc:
            raise JobError(f"git: no answer from {public_url(self.url)} within {GIT_TIMEOUT} s") from exc
        if result.returncode != 0:
            raise JobError(self.explain(args[0], self.scrub(result.stderr), network))
        return result.stdout.strip()

    def explain(self, verb: str, stderr: str, network: bool) -> str:
        url = public_url(self.url)
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else "no message"
        if network:
            if any(s in stderr for s in ("Authentication failed", "could not read Username", "could not read Password",
                                         "terminal prompts disabled", "returned error: 401", "returned error: 403")):
                return f"git: {url} refused the credentials (the token of the Job's git Secret)"
            reach = re.search(r"(Could not resolve host[^\n]*|Failed to connect[^\n]*|Connection refused|Connection timed out"
                              r"|Connection reset[^\n]*|Operation timed out[^\n]*|SSL[^\n]*|server certificate[^\n]*)", stderr)
            if reach:
                return f"git: cannot reach {url}: {reach.group(1).strip()}"
            if "not found" in stderr or "returned error: 404" in stderr:
                return f"git: {url}: repository not found"
        return f"git {verb} failed for {url}: {last}"


def sync_model(command: str, url: str, model_dir: str, git: Git) -> str:
    """Clone or update the model (the remote's default branch) into ``model_dir``; return the commit."""
    model_dir = os.path.abspath(model_dir)
    os.makedirs(model_dir, exist_ok=True)
    fresh = not os.path.isdir(os.path.join(model_dir, ".git"))
    say(command, f"{'cloning' if fresh else 'updating'} the model from {public_url(url)} into {model_dir}")
    if fresh:
        git("init", "-q", model_dir)
    git("config", "remote.origin.url", url, cwd=model_dir)
    git("fetch", "-q", "--no-tags", "origin", "HEAD", cwd=model_dir, network=True)
    git("reset", "-q", "--hard", "FETCH_HEAD", cwd=model_dir)
    git("clean", "-q", "-ffdx", cwd=model_dir)
    commit = git("rev-parse", "HEAD", cwd=model_dir)
    say(command, f"model at commit {commit}")
    return commit


def merge_store(psp: str, cfg: dict) -> dict:
    store = cfg.get("merge_store")
    if not isinstance(store, dict):
        raise JobError(f"the model names no merge store for PSP {psp} (merge_store)")
    host_port = store.get("hostPort") or {}
    database = store.get("databaseName")
    if not host_port.get("host") or not database:
        raise JobError(f"the merge store of PSP {psp} needs hostPort.host and databaseName")
    return {"name": store.get("name", "merge"), "host": host_port["host"], "port": int(host_port.get("port", 5432)), "database": database}


def connect(command: str, store: dict, cfg: dict, environ):
    """Connect to the merge store with the Job's ``<postgres_secret>_USER`` / ``_PASSWORD``."""
    secret = cfg.get("postgres_secret", "postgres")
    user, password = environ.get(f"{secret}_USER"), environ.get(f"{secret}_PASSWORD")
    if not user or not password:
        raise JobError(f"no database credentials in the environment: the Job sets {secret}_USER and {secret}_PASSWORD (Secret {secret})")
    try:
        import psycopg2  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise JobError("psycopg2 is not installed (Debian package python3-psycopg2)") from exc
    where = f"{store['host']}:{store['port']}/{store['database']}"
    say(command, f"connecting to the merge store {store['name']} at {where} as {user}")
    try:
        conn = psycopg2.connect(host=store["host"], port=store["port"], dbname=store["database"], user=user, password=password,
                                connect_timeout=DB_CONNECT_TIMEOUT, application_name=f"datasurface-{command}")
    except psycopg2.OperationalError as exc:
        text = str(exc).replace(password, "***")
        first = next((line.strip() for line in text.splitlines() if line.strip()), "no message")
        if "authentication failed" in text or "no pg_hba.conf entry" in text:
            raise JobError(f"database {where} refused the credentials of user {user}: {first}") from None
        if f'database "{store["database"]}" does not exist' in text:
            raise JobError(f"database {where}: the database does not exist") from None
        raise JobError(f"database: cannot reach {where}: {first}") from None
    conn.autocommit = False
    return conn


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ring1_tables(psp: str) -> list:
    """The ring-1 tables the lab's verify checks."""
    return [(f"{psp.lower()}_factory_dags", "dag_id text PRIMARY KEY, config jsonb, created_at timestamptz DEFAULT now()"),
            ("scd1_airflow_dsg", "dag_id text PRIMARY KEY, config jsonb"),
            ("scd2_airflow_dsg", "dag_id text PRIMARY KEY, config jsonb")]


def merge_table(psp: str) -> str:
    return f"{psp.lower()}_model_merge"


def merge_view(psp: str) -> str:
    return f"{psp.lower()}_model_current"


def _create_merge_table(cur, psp: str) -> None:
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {_ident(merge_table(psp))} ("
        "commit_sha text NOT NULL, rte_name text NOT NULL DEFAULT '', ecosystem text NOT NULL, git_repo text NOT NULL, "
        "first_merged_at timestamptz NOT NULL DEFAULT now(), merged_at timestamptz NOT NULL DEFAULT now(), "
        "merge_count integer NOT NULL DEFAULT 1, PRIMARY KEY (commit_sha, rte_name))")


def handle_ring1_init(command: str, conn, psp: str, **_context) -> None:
    with conn.cursor() as cur:
        for table, columns in ring1_tables(psp):
            cur.execute(f"CREATE TABLE IF NOT EXISTS {_ident(table)} ({columns})")
        names = [table for table, _columns in ring1_tables(psp)]
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY(%s) "
                    "ORDER BY table_name", (names,))
        present = [row[0] for row in cur.fetchall()]
    conn.commit()
    say(command, f"ring1 tables present: {' '.join(present)}")


def handle_model_merge(command: str, conn, psp: str, commit: str, ecosystem: dict, url: str, rte_name, **_context) -> None:
    with conn.cursor() as cur:
        _create_merge_table(cur, psp)
        cur.execute(
            f"INSERT INTO {_ident(merge_table(psp))} AS m (commit_sha, rte_name, ecosystem, git_repo) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (commit_sha, rte_name) DO UPDATE SET merged_at = now(), merge_count = m.merge_count + 1, "
            "ecosystem = EXCLUDED.ecosystem, git_repo = EXCLUDED.git_repo RETURNING merge_count",
            (commit, rte_name or "", str(ecosystem.get("name", "")), public_url(url)))
        count = cur.fetchone()[0]
    conn.commit()
    say(command, f"recorded commit {commit} of ecosystem {ecosystem.get('name', '')} in {merge_table(psp)} (merge {count})")


def reconcile_views(command: str, conn, psp: str, commit: str, rte_name, **_context) -> None:
    with conn.cursor() as cur:
        _create_merge_table(cur, psp)
        cur.execute(
            f"CREATE OR REPLACE VIEW {_ident(merge_view(psp))} AS "
            "SELECT DISTINCT ON (rte_name) rte_name, commit_sha, ecosystem, git_repo, merged_at "
            f"FROM {_ident(merge_table(psp))} ORDER BY rte_name, merged_at DESC, commit_sha")
        cur.execute(f"SELECT commit_sha FROM {_ident(merge_view(psp))} WHERE rte_name = %s", (rte_name or "",))
        row = cur.fetchone()
    conn.commit()
    current = row[0] if row else None
    say(command, f"view {merge_view(psp)} reconciled: runtime environment {rte_name or '(none)'} -> "
                 f"{current or 'no merged model yet'}")
    if current and current != commit:
        say(command, f"note: the model's commit {commit} is not merged yet (handleModelMerge)")


_HANDLERS = {"handleRing1Init": handle_ring1_init, "handleModelMerge": handle_model_merge, "reconcileViews": reconcile_views}


def run_job_command(args, environ=None) -> int:
    environ = os.environ if environ is None else environ
    command = args.command
    rte_name = getattr(args, "rte_name", None)
    say(command, f"PSP {args.psp}" + (f", runtime environment {rte_name}" if rte_name else ""))
    try:
        token_var, token = git_token(environ)
        say(command, f"git token from ${token_var}")
        git = Git(args.git_repo, token, (token,))
        model_dir = os.path.abspath(args.model)
        os.makedirs(os.path.dirname(model_dir), exist_ok=True)
        # The Jobs share the cache volume: one of them at a time updates and reads the model.
        with open(os.path.join(os.path.dirname(model_dir), f".{os.path.basename(model_dir)}.lock"), "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            commit = sync_model(command, args.git_repo, model_dir, git)
            ecosystem = load_ecosystem(model_dir)
        cfg = ecosystem.get("psps", {}).get(args.psp)
        if cfg is None:
            raise JobError(f"the model (ecosystem {ecosystem.get('name', '?')}) has no PSP {args.psp}")
        store = merge_store(args.psp, cfg)
        conn = connect(command, store, cfg, environ)
        try:
            _HANDLERS[command](command, conn, args.psp, commit=commit, ecosystem=ecosystem, url=args.git_repo, rte_name=rte_name)
        except Exception as exc:  # pylint: disable=broad-except  # psycopg2.Error and friends: one line, no traceback
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise JobError(f"database {store['host']}:{store['port']}/{store['database']}: {first}") from exc
        finally:
            conn.close()
    except JobError as exc:
        print(f"ERROR: {command}: {exc}", file=sys.stderr, flush=True)
        return 1
    say(command, "done")
    return 0


# --- the command line -----------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m datasurface.cmd.platform", description="DataSurface platform commands (stand-in)")
    commands = top.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generatePlatformBootstrap", help="write the bootstrap artifacts of one platform service provider")
    generate.add_argument("--ringLevel", type=int, required=True)
    generate.add_argument("--model", required=True, help="directory holding the model (eco.py)")
    generate.add_argument("--output", required=True, help="directory to write <PSP>/... into")
    generate.add_argument("--psp", required=True, help="platform service provider name")
    if not legacy():
        generate.add_argument("--rte-name", dest="rte_name", help="runtime environment name")
    for name in RUNTIME_COMMANDS:
        job = commands.add_parser(name, help="a bootstrap Job's work: clone the model, act on the merge database")
        job.add_argument("--model", required=True, help="where to clone the model (the git-cache volume)")
        job.add_argument("--git-repo", dest="git_repo", required=True, help="the model's git repository (HTTP(S); token from the environment)")
        job.add_argument("--psp", required=True, help="platform service provider name")
        if not legacy():
            job.add_argument("--rte-name", dest="rte_name", help="runtime environment name")
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    delay = float(os.environ.get("DATASURFACE_STUB_SLEEP", "0") or 0)
    if delay > 0:
        time.sleep(delay)
    for name in filter(None, os.environ.get("DATASURFACE_STUB_ECHO", "").split(",")):
        print(f"env {name}={os.environ.get(name, '')}")
    if args.command in RUNTIME_COMMANDS:
        return run_job_command(args)
    ecosystem = load_ecosystem(args.model)
    cfg = ecosystem.get("psps", {}).get(args.psp)
    if cfg is None:
        return 0  # like the real generator: an unknown PSP is not an error, nothing is written
    platform = Platform(args.psp, cfg, getattr(args, "rte_name", None), args.ringLevel)
    target = os.path.join(args.output, args.psp)
    os.makedirs(target, exist_ok=True)
    for name, text in sorted(platform.files().items()):
        with open(os.path.join(target, name), "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"Wrote {os.path.join(target, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

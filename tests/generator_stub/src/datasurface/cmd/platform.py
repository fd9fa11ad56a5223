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

Standard library only; the output is deterministic (no timestamps) and depends on the model, on
--rte-name and on --ringLevel.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback

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
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    delay = float(os.environ.get("DATASURFACE_STUB_SLEEP", "0") or 0)
    if delay > 0:
        time.sleep(delay)
    for name in filter(None, os.environ.get("DATASURFACE_STUB_ECHO", "").split(",")):
        print(f"env {name}={os.environ.get(name, '')}")
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

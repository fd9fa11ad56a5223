# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A real Kubernetes control plane on loopback for the lab and the tests.

REAL: etcd, kube-apiserver (TLS, client certificates, ``--authorization-mode=Node,RBAC``, ServiceAccount
token issuing, the default admission plugins plus NodeRestriction), kube-controller-manager (all default
controllers: namespace, garbage collector, job, ttl-after-finished, deployment, replicaset, statefulset,
persistent-volume binder, serviceaccount, serviceaccount-token, endpoint(slice), node-ipam...), kube-scheduler.
SIMULATED: the nodes. KWOK (``kwok`` with KWOK's own stages) manages Node objects annotated
``kwok.x-k8s.io/node: fake``: heartbeats and leases, pods Running and Ready, pods owned by a Job Succeeded,
a container failure on request, pod logs (one file for every pod), pod deletion. No container runs.

Layout of ``directory``: ``pki/`` (kubeadm-like), ``*.kubeconfig`` (mode 0600), ``logs/``, ``etcd/``,
``cluster.json`` (ports, pids), ``env`` (shell exports), ``kwok.yaml``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import yaml

from .pki import Pki

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LAB_NODES = ("yellow-lab-node1", "yellow-lab-node2", "yellow-lab-node3")
# K3s's default class (inventories/lab) and the example k3s inventory's Longhorn class.
STORAGE_CLASSES = ("local-path", "longhorn")
POD_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/12"
OPERATOR_USER = "yellow-operator"
OPERATOR_RBAC = REPO / "playbooks" / "files" / "operator-rbac.yml"
NODE_CAPACITY = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "50Gi"}
NODE_ALLOCATABLE = {"cpu": "3800m", "memory": "7680Mi", "pods": "110", "ephemeral-storage": "45Gi"}
VOLUMES_PER_CLASS = 24
VOLUME_SIZE = "20Gi"
SIMULATED_LOG = "simulated by KWOK: no container ran on this node (tests/cluster)\n"
# KWOK reads log files in the CRI logging format (k8s.io/cri-client/pkg/logs), as a kubelet does.
SIMULATED_LOG_CRI = "2026-01-01T00:00:00.000000000Z stdout F " + SIMULATED_LOG
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


class ClusterError(RuntimeError):
    """The control plane could not be built, started or reached."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: Optional[int]) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def build(env: Optional[Dict[str, str]] = None) -> Path:
    """Build (or reuse) the binaries; return the cache directory holding ``bin/`` and ``kwok-stages/``."""
    proc = subprocess.run([str(HERE / "build.sh")], stdout=subprocess.PIPE, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise ClusterError(f"tests/cluster/build.sh failed (exit {proc.returncode}); its log is above")
    return Path(proc.stdout.strip().splitlines()[-1])


class Cluster:
    """One control plane rooted at ``directory``; ``up()`` is idempotent, ``down()`` stops it."""

    def __init__(self, directory, nodes: Sequence[str] = LAB_NODES,
                 storage_classes: Sequence[str] = STORAGE_CLASSES, node_address: Optional[str] = None) -> None:
        """``nodes``: the KWOK-simulated nodes. ``node_address``: an address of this machine that real
        nodes (kubelets in the lab's containers) reach the API server at; then the API server serves on
        every address (client certificates still required), advertises that one and keeps the
        ``kubernetes`` Service's endpoints, so pods reach it through the Service as on kubeadm."""
        self.dir = Path(directory).resolve()
        self.nodes = list(nodes)
        self.storage_classes = list(storage_classes)
        self.pki = Pki(self.dir / "pki")
        self.state_path = self.dir / "cluster.json"
        self.state: Dict = json.loads(self.state_path.read_text()) if self.state_path.exists() else {}
        self.node_address = node_address or self.state.get("node_address")

    # ---- paths and identities ------------------------------------------------------------------
    @property
    def admin_kubeconfig(self) -> Path:
        """system:masters (kubeadm's super-admin.conf): only for setting up and asserting."""
        return self.dir / "admin.kubeconfig"

    @property
    def operator_kubeconfig(self) -> Path:
        """The operator identity (user ``yellow-operator``) with exactly the shipped RBAC."""
        return self.dir / "operator.kubeconfig"

    @property
    def bin(self) -> Path:
        return Path(self.state["cache"]) / "bin"

    @property
    def kubectl_path(self) -> Path:
        return self.bin / "kubectl"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.state['ports']['apiserver']}"

    @property
    def version(self) -> str:
        return self.state.get("version", "")

    def env(self, operator: bool = False) -> Dict[str, str]:
        """Variables pointing kubectl, kubernetes.core and the kubernetes client at this cluster."""
        kubeconfig = str(self.operator_kubeconfig if operator else self.admin_kubeconfig)
        return {"KUBECONFIG": kubeconfig, "K8S_AUTH_KUBECONFIG": kubeconfig,
                "YELLOW_CLUSTER_DIR": str(self.dir), "YELLOW_KUBECTL": str(self.kubectl_path),
                "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"}

    # ---- lifecycle -----------------------------------------------------------------------------
    def describe(self) -> str:
        """One line: the version, the address and which parts are real."""
        real = "etcd, kube-apiserver, kube-controller-manager, kube-scheduler"
        simulated = f"; SIMULATED: nodes {', '.join(self.nodes)} by KWOK" if self.nodes else ""
        joined = f"; real nodes join at https://{self.node_address}:{self.state['ports']['apiserver']}" if self.node_address else ""
        return f"control plane {self.version} at {self.server} (REAL: {real}{simulated}{joined})"

    def running(self) -> bool:
        pids = self.state.get("pids", {})
        return bool(pids) and all(_alive(pids.get(name)) for name in COMPONENTS) and self._ready()

    def up(self, cache: Optional[Path] = None, timeout: float = 180) -> "Cluster":
        if self.state.get("pids") and self.running():
            return self
        self.down()
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        (self.dir / "logs").mkdir(exist_ok=True)
        cache = Path(cache) if cache else build()
        ports = self.state.get("ports") or {name: _free_port() for name in
                                            ("etcd", "etcd_peer", "apiserver", "controller_manager",
                                             "scheduler", "kwok")}
        self.state = {"cache": str(cache), "ports": ports, "pids": {}, "nodes": self.nodes,
                      "storage_classes": self.storage_classes, "node_address": self.node_address}
        self._pki()
        self._kubeconfigs()
        self._start_etcd()
        self._start_apiserver()
        self._wait(self._ready, timeout, "kube-apiserver /readyz")
        self._start("kube-controller-manager", self._controller_manager_args())
        self._start("kube-scheduler", self._scheduler_args())
        self._write_kwok_config()
        self._start("kwok", self._kwok_args())
        self._save()
        self._seed()
        self._wait(self._nodes_ready, timeout, "the KWOK nodes to be Ready")
        self._wait(lambda: self._default_service_account("default"), timeout,
                   "the ServiceAccount controller (default/default)")
        self.state["version"] = json.loads(self.kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
        self._save()
        self._write_env()
        return self

    def down(self) -> None:
        pids = self.state.get("pids", {})
        for name in reversed(COMPONENTS):
            pid = pids.get(name)
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGTERM)
                except OSError:
                    pass
        deadline = time.monotonic() + 20
        for name in reversed(COMPONENTS):
            pid = pids.get(name)
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
        if self.state.get("pids"):
            self.state["pids"] = {}
            self._save()

    def restart_kwok(self) -> None:
        """Restart only KWOK (it reads its stages at start): after a change in stages/."""
        pid = self.state.get("pids", {}).get("kwok")
        if _alive(pid):
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        self._write_kwok_config()
        self._start("kwok", self._kwok_args())

    def destroy(self) -> None:
        self.down()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- helpers for tests and the lab ---------------------------------------------------------
    def kubectl(self, *args: str, operator: bool = False, input: Optional[str] = None,
                check: bool = True) -> subprocess.CompletedProcess:
        kubeconfig = self.operator_kubeconfig if operator else self.admin_kubeconfig
        proc = subprocess.run([str(self.kubectl_path), "--kubeconfig", str(kubeconfig), *args], input=input,
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
        return proc

    def apply(self, objects: Iterable[Dict], operator: bool = False) -> None:
        docs = [obj for obj in objects if obj]
        if docs:
            self.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=yellow-tests",
                         "-f", "-", operator=operator, input=yaml.safe_dump_all(docs))

    def get(self, *args: str) -> Dict:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def create_namespace(self, name: str, grant_operator: bool = True) -> None:
        """Create ``name`` and, like a cluster admin following the README, grant the operator in it."""
        # A namespace still being deleted (a lab-down just before) accepts the apply and then vanishes
        # with everything created in it since: wait until it is gone first.
        self._wait(lambda: not self._terminating(name), 180, f"namespace {name} to finish terminating")
        self.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}])
        if grant_operator:
            self.grant_operator(name)
        # Pods are refused until the ServiceAccount controller made `default` (a Job would back off 10 s+).
        self._wait(lambda: self._default_service_account(name), 60, f"the default ServiceAccount of {name}")

    def grant_operator(self, namespace: str) -> None:
        self.apply(operator_rbac(namespaces=[namespace], cluster_scoped=False))

    def delete_namespace(self, name: str, wait: bool = False) -> None:
        self.kubectl("delete", "namespace", name, "--ignore-not-found", f"--wait={str(wait).lower()}",
                     "--timeout=120s")

    def recycle_volumes(self) -> None:
        """Replace Released/Failed pre-created volumes by fresh Available ones (the pool stays full)."""
        volumes = self.get("persistentvolumes", "-l", "yellow.test/pool=true")["items"]
        stale = [pv["metadata"]["name"] for pv in volumes
                 if pv.get("status", {}).get("phase") in ("Released", "Failed")]
        if stale:
            self.kubectl("delete", "persistentvolume", *stale, "--wait=true", "--timeout=60s")
        self.apply(self._volumes())

    def node_kubeconfig(self, stem: str, common_name: str, organizations: Sequence[str] = ()) -> str:
        """A kubeconfig with embedded credentials for a real node's component, pointing at
        ``node_address``: kubelet (``system:node:<name>``, group ``system:nodes``, as the Node authorizer
        and NodeRestriction want) or kube-proxy (``system:kube-proxy``, bound to ``system:node-proxier`` by
        the default RBAC). It holds a private key: write it owner-only."""
        if not self.node_address:
            raise ClusterError("node_kubeconfig needs a control plane started with node_address")
        self.pki.client(stem, common_name, organizations)

        def b64(name: str) -> str:
            return base64.b64encode(self.pki.path(name).read_bytes()).decode()
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "yellow-lab",
                  "clusters": [{"name": "yellow-lab", "cluster": {
                      "server": f"https://{self.node_address}:{self.state['ports']['apiserver']}",
                      "certificate-authority-data": b64("ca.crt")}}],
                  "users": [{"name": common_name, "user": {"client-certificate-data": b64(stem + ".crt"),
                                                           "client-key-data": b64(stem + ".key")}}],
                  "contexts": [{"name": "yellow-lab", "context": {"cluster": "yellow-lab", "user": common_name}}]}
        return yaml.safe_dump(config)

    def write_node_credentials(self, node: str, directory) -> None:
        """Write ``kubelet.kubeconfig``, ``kube-proxy.kubeconfig`` (owner-only) and ``ca.crt`` for ``node``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        for name, text in (("kubelet.kubeconfig", self.node_kubeconfig(f"kubelet-{node}", f"system:node:{node}",
                                                                       ["system:nodes"])),
                           ("kube-proxy.kubeconfig", self.node_kubeconfig("kube-proxy", "system:kube-proxy"))):
            fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
        shutil.copyfile(self.pki.path("ca.crt"), directory / "ca.crt")

    # ---- internals -----------------------------------------------------------------------------
    def _save(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True))
        tmp.replace(self.state_path)

    def _pki(self) -> None:
        self.pki.ensure(
            server_names=["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                          "kubernetes.default.svc.cluster.local"],
            server_ips=["127.0.0.1", "10.96.0.1"] + ([self.node_address] if self.node_address else []),
            clients=[("admin", "kubernetes-super-admin", ["system:masters"]),
                     ("controller-manager", "system:kube-controller-manager", []),
                     ("scheduler", "system:kube-scheduler", []),
                     ("apiserver-kubelet-client", "kube-apiserver-kubelet-client", ["kubeadm:cluster-admins"]),
                     ("kwok", "system:kwok-controller", ["system:masters"]),
                     ("operator", OPERATOR_USER, [])])
        self.pki.server("kwok-serving", "kwok", ["localhost"], ["127.0.0.1"])

    def _kubeconfigs(self) -> None:
        for stem, path in (("admin", self.admin_kubeconfig), ("operator", self.operator_kubeconfig),
                           ("controller-manager", self.dir / "controller-manager.kubeconfig"),
                           ("scheduler", self.dir / "scheduler.kubeconfig"),
                           ("kwok", self.dir / "kwok.kubeconfig")):
            user = "yellow-operator" if stem == "operator" else stem
            config = {"apiVersion": "v1", "kind": "Config", "current-context": "yellow-lab",
                      "clusters": [{"name": "yellow-lab", "cluster": {
                          "server": f"https://127.0.0.1:{self.state['ports']['apiserver']}",
                          "certificate-authority": str(self.pki.path("ca.crt"))}}],
                      "users": [{"name": user, "user": {
                          "client-certificate": str(self.pki.path(stem + ".crt")),
                          "client-key": str(self.pki.path(stem + ".key"))}}],
                      "contexts": [{"name": "yellow-lab", "context": {"cluster": "yellow-lab", "user": user}}]}
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                yaml.safe_dump(config, handle)

    def _start(self, name: str, args: List[str]) -> None:
        log = open(self.dir / "logs" / f"{name}.log", "ab")  # pylint: disable=consider-using-with
        proc = subprocess.Popen([str(self.bin / name.replace("etcd-server", "etcd")), *args],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                cwd=self.dir)
        log.close()
        self.state["pids"][name] = proc.pid
        self._save()

    def _start_etcd(self) -> None:
        ports = self.state["ports"]
        client, peer = f"http://127.0.0.1:{ports['etcd']}", f"http://127.0.0.1:{ports['etcd_peer']}"
        self._start("etcd", ["--name=lab", f"--data-dir={self.dir / 'etcd'}", f"--listen-client-urls={client}",
                             f"--advertise-client-urls={client}", f"--listen-peer-urls={peer}",
                             f"--initial-advertise-peer-urls={peer}", f"--initial-cluster=lab={peer}",
                             "--unsafe-no-fsync", "--log-level=warn", "--listen-metrics-urls="])

    def _start_apiserver(self) -> None:
        pki, ports = self.pki.path, self.state["ports"]
        if self.node_address:
            # Real nodes: kubelets and pods (through the `kubernetes` Service) reach this address.
            addresses = [f"--advertise-address={self.node_address}", "--bind-address=0.0.0.0"]
        else:
            # The advertise address is loopback, which the `kubernetes` Service's Endpoints may not hold: no
            # reconciler (nothing reaches the API server through that Service; no pod runs).
            addresses = ["--advertise-address=127.0.0.1", "--bind-address=127.0.0.1", "--endpoint-reconciler-type=none"]
        self._start("kube-apiserver", addresses + [
            f"--secure-port={ports['apiserver']}",
            f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
            f"--client-ca-file={pki('ca.crt')}", f"--tls-cert-file={pki('apiserver.crt')}",
            f"--tls-private-key-file={pki('apiserver.key')}",
            "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki('sa.pub')}", f"--service-account-signing-key-file={pki('sa.key')}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--kubelet-client-certificate={pki('apiserver-kubelet-client.crt')}",
            f"--kubelet-client-key={pki('apiserver-kubelet-client.key')}",
            "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
            f"--cert-dir={self.dir / 'apiserver-certs'}", "--profiling=false", "--v=1"])

    def _component_auth(self, name: str) -> List[str]:
        kubeconfig = self.dir / f"{name}.kubeconfig"
        return [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1",
                f"--cert-dir={self.dir / (name + '-certs')}", "--leader-elect=false", "--profiling=false"]

    def _controller_manager_args(self) -> List[str]:
        pki = self.pki.path
        return self._component_auth("controller-manager") + [
            f"--secure-port={self.state['ports']['controller_manager']}",
            f"--client-ca-file={pki('ca.crt')}", f"--root-ca-file={pki('ca.crt')}",
            f"--service-account-private-key-file={pki('sa.key')}",
            f"--cluster-signing-cert-file={pki('ca.crt')}", f"--cluster-signing-key-file={pki('ca.key')}",
            "--use-service-account-credentials=true", "--controllers=*,bootstrapsigner,tokencleaner",
            "--allocate-node-cidrs=true", f"--cluster-cidr={POD_CIDR}", "--node-cidr-mask-size=24",
            f"--service-cluster-ip-range={SERVICE_CIDR}", "--v=1"]

    def _scheduler_args(self) -> List[str]:
        return self._component_auth("scheduler") + [f"--secure-port={self.state['ports']['scheduler']}", "--v=1"]

    def _write_kwok_config(self) -> None:
        stages = Path(self.state["cache"]) / "kwok-stages"
        (self.dir / "simulated-pod.log").write_text(SIMULATED_LOG_CRI)
        # KWOK's own default configuration (parallelism, lease duration...), without its CRDs: the stages
        # and logs below are static; the flags in _kwok_args override addresses and node selection.
        configuration = yaml.safe_load((Path(self.state["cache"]) / "kwok-configuration.yaml").read_text())
        configuration["options"]["enableCRDs"] = []
        configuration["options"]["enableDebuggingHandlers"] = True  # pod logs through the API server
        docs = [configuration,
                {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs", "metadata": {"name": "every-pod"},
                 "spec": {"logs": [{"logsFile": str(self.dir / "simulated-pod.log"), "follow": False}]}}]
        text = yaml.safe_dump_all(docs)
        # KWOK's own stages (copied by build.sh from the pinned module), then ours (stages/, each says why).
        for path in sorted(stages.glob("*.yaml")) + sorted((HERE / "stages").glob("*.yaml")):
            body = path.read_text()
            text += body if body.startswith("---\n") else "---\n" + body
        (self.dir / "kwok.yaml").write_text(text)

    def _kwok_args(self) -> List[str]:
        port = self.state["ports"]["kwok"]
        return [f"--kubeconfig={self.dir / 'kwok.kubeconfig'}", f"--config={self.dir / 'kwok.yaml'}",
                "--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                "--node-ip=127.0.0.1", f"--node-port={port}", f"--server-address=127.0.0.1:{port}",
                f"--tls-cert-file={self.pki.path('kwok-serving.crt')}",
                f"--tls-private-key-file={self.pki.path('kwok-serving.key')}",
                f"--cidr={POD_CIDR}", "--node-lease-duration-seconds=40"]

    def _ready(self) -> bool:
        context = ssl.create_default_context(cafile=str(self.pki.path("ca.crt")))
        context.load_cert_chain(str(self.pki.path("admin.crt")), str(self.pki.path("admin.key")))
        try:
            with urllib.request.urlopen(f"{self.server}/readyz", context=context, timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def _wait(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state_path.exists():  # another process may have restarted a component (restart-kwok)
                self.state = json.loads(self.state_path.read_text())
            for name, pid in self.state.get("pids", {}).items():
                if not _alive(pid):
                    tail = (self.dir / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
                    raise ClusterError(f"{name} exited while waiting for {what}; its log ends:\n{tail}")
            try:
                if predicate():
                    return
            except ClusterError:
                pass
            time.sleep(0.5)
        raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what} (logs in {self.dir / 'logs'})")

    def _nodes_ready(self) -> bool:
        nodes = {node["metadata"]["name"]: node for node in self.get("nodes")["items"]}
        for name in self.nodes:
            conditions = nodes.get(name, {}).get("status", {}).get("conditions", [])
            if not any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
                return False
        return True

    def _terminating(self, namespace: str) -> bool:
        proc = self.kubectl("get", "namespace", namespace, "-o", "json", check=False)
        return proc.returncode == 0 and bool(json.loads(proc.stdout)["metadata"].get("deletionTimestamp"))

    def _default_service_account(self, namespace: str) -> bool:
        return self.kubectl("get", "serviceaccount", "default", "-n", namespace, check=False).returncode == 0

    def _node(self, index: int, name: str) -> Dict:
        labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                  "type": "kwok"}
        if index == 0:
            labels["node-role.kubernetes.io/control-plane"] = "true"
        return {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels,
                             "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"}},
                "status": {"capacity": dict(NODE_CAPACITY), "allocatable": dict(NODE_ALLOCATABLE)}}

    def _volumes(self) -> List[Dict]:
        existing = {pv["metadata"]["name"] for pv in self.get("persistentvolumes")["items"]}
        volumes = []
        for storage_class in self.storage_classes:
            for index in range(VOLUMES_PER_CLASS):
                name = f"{storage_class}-pool-{index:02d}"
                if name in existing:
                    continue
                volumes.append({"apiVersion": "v1", "kind": "PersistentVolume",
                                "metadata": {"name": name, "labels": {"yellow.test/pool": "true"}},
                                "spec": {"capacity": {"storage": VOLUME_SIZE},
                                         "accessModes": ["ReadWriteOnce", "ReadWriteMany"],
                                         "persistentVolumeReclaimPolicy": "Retain",
                                         "storageClassName": storage_class,
                                         # On real nodes the kubelet of the pod's node creates it.
                                         "hostPath": {"path": f"/var/lib/yellow-lab-volumes/{name}",
                                                      "type": "DirectoryOrCreate"}}})
        return volumes

    def _seed(self) -> None:
        # Nodes are created with their status (capacity) as a kubelet registers them; KWOK then owns them.
        existing = {node["metadata"]["name"] for node in self.get("nodes")["items"]}
        for index, name in enumerate(self.nodes):
            if name not in existing:
                self.kubectl("create", "-f", "-", input=yaml.safe_dump(self._node(index, name)))
        # The first class is the default, as K3s makes local-path: the generator's PVCs name no class.
        classes = [{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                    "metadata": {"name": name, "annotations": {
                        "storageclass.kubernetes.io/is-default-class": str(index == 0).lower()}},
                    "provisioner": "kubernetes.io/no-provisioner",
                    "reclaimPolicy": "Retain", "volumeBindingMode": "Immediate"}
                   for index, name in enumerate(self.storage_classes)]
        self.apply(classes)
        self.apply(self._volumes())
        self.apply(operator_rbac(namespaces=[], cluster_scoped=True))
        # kubeadm's binding for the group in the API server's kubelet client certificate (logs, exec).
        self.apply([{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                     "metadata": {"name": "kubeadm:cluster-admins"},
                     "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
                     "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                   "name": "kubeadm:cluster-admins"}]}])

    def _write_env(self) -> None:
        env = self.env()
        lines = [f"export {key}={json.dumps(value)}" for key, value in sorted(env.items()) if key != "PATH"]
        lines.append(f'export PATH="{self.bin}:$PATH"')
        (self.dir / "env").write_text("\n".join(lines) + "\n")


def operator_rbac(namespaces: Sequence[str], cluster_scoped: bool = True,
                  path: Path = OPERATOR_RBAC) -> List[Dict]:
    """The shipped operator RBAC: cluster-scoped documents and/or the namespaced ones for ``namespaces``.

    The manifest's namespaced documents (RoleBindings) carry the placeholder namespace of the file; they are
    repeated once per namespace given.
    """
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    out: List[Dict] = []
    for doc in docs:
        if doc.get("metadata", {}).get("namespace") is None:
            if cluster_scoped:
                out.append(doc)
            continue
        for namespace in namespaces:
            copy = json.loads(json.dumps(doc))
            copy["metadata"]["namespace"] = namespace
            out.append(copy)
    return out

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""pytest fixtures on the real control plane.

- ``cluster`` (session): the running control plane of ``$YELLOW_CLUSTER_DIR`` (``scripts/test.sh`` starts one
  for every stage), else one started for this session in a temporary directory and stopped at its end.
- ``k8s_namespace``: a fresh namespace per test (operator granted in it as the README says), deleted after;
  the pool of pre-created volumes is refilled after it.
- ``k8s_env``: ``os.environ`` plus the OPERATOR's kubeconfig (``KUBECONFIG``, ``K8S_AUTH_KUBECONFIG``), kubectl on
  ``PATH``, and per-test ``TMPDIR``/``KUBECACHEDIR``/``HELM_*_HOME`` so no discovery cache outlives a test.
  ``k8s_admin_env`` is the same with the admin's kubeconfig (set-up and assertions only).

Other test directories import them by name in their conftest.py (``from tests.cluster.fixtures import cluster, ...``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Dict, Iterator

import pytest

from .cluster import Cluster

__all__ = ["cluster", "k8s_namespace", "k8s_env", "k8s_admin_env"]


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    directory = os.environ.get("YELLOW_CLUSTER_DIR")
    if directory:
        found = Cluster(directory)
        if not found.running():
            pytest.fail(f"YELLOW_CLUSTER_DIR={directory} names no running control plane "
                        "(python -m tests.cluster up --dir ...)")
        yield found
        return
    with tempfile.TemporaryDirectory(prefix="yellow-cluster-") as tmp:
        started = Cluster(Path(tmp) / "cluster").up()
        try:
            yield started
        finally:
            started.down()


def _namespace_name(nodeid: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", nodeid.split("::")[-1].lower()).strip("-")[:40].strip("-")
    return f"t-{slug}-{hashlib.sha256(nodeid.encode()).hexdigest()[:6]}-{os.getpid() % 10000}"


@pytest.fixture
def k8s_namespace(cluster: Cluster, request) -> Iterator[str]:
    name = _namespace_name(request.node.nodeid)
    cluster.delete_namespace(name, wait=True)
    cluster.recycle_volumes()
    cluster.create_namespace(name)
    try:
        yield name
    finally:
        cluster.delete_namespace(name, wait=False)


def _env(cluster: Cluster, tmp_path: Path, operator: bool) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(cluster.env(operator=operator))
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmpdir)
    env["KUBECACHEDIR"] = str(tmp_path / "kube-cache")
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[var] = str(tmp_path / var.lower())
    return env


@pytest.fixture
def k8s_env(cluster: Cluster, tmp_path: Path) -> Dict[str, str]:
    return _env(cluster, tmp_path, operator=True)


@pytest.fixture
def k8s_admin_env(cluster: Cluster, tmp_path: Path) -> Dict[str, str]:
    return _env(cluster, tmp_path, operator=False)

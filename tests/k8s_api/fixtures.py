# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""pytest fixtures: ``k8s_api`` (a running ``ApiServer`` with a kubeconfig) and ``k8s_env`` (env for subprocesses).

Discovery-cache isolation: the kubernetes client caches discovery in ``$TMPDIR/osrcp-<md5(url)>.json`` and
kubernetes.core 6.2.0 in ``$TMPDIR/k8srcp-<sha256(url + "-" + user)>.json`` (module_utils/client/discovery.py:
``tempfile.gettempdir()``, keyed by ``configuration.host`` and ``os.getlogin()``/uid/``$USERNAME``). A cache
left by an earlier server on the same port would hide this server's kinds, so the fixture (1) serves on a fresh
ephemeral port, (2) deletes this URL's cache files from the default temp dir before and after the test, and
(3) ``k8s_env`` points ``TMPDIR`` of subprocesses (ansible-playbook and the modules it runs) at a per-test
directory, so their caches never outlive the test. kubectl (``KUBECACHEDIR``) and helm (``HELM_*_HOME``) get
per-test cache directories the same way.

Another test directory can use them with ``from tests.k8s_api.fixtures import k8s_api, k8s_env`` in its
conftest.py (the repository root is on ``sys.path`` under ``python -m pytest`` run from it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterator

import pytest

from .server import ApiServer


@pytest.fixture
def k8s_api(tmp_path: Path) -> Iterator[ApiServer]:
    """A started ``ApiServer``; ``.url``, ``.kubeconfig_path`` (mode 0600), ``.store``, ``.set_pod_log``..."""
    api = ApiServer(kubeconfig_path=tmp_path / "kubeconfig")
    api.start()
    api.clear_discovery_cache()
    try:
        yield api
    finally:
        api.stop()
        api.clear_discovery_cache()


@pytest.fixture
def k8s_env(k8s_api: ApiServer, tmp_path: Path) -> Dict[str, str]:
    """``os.environ`` plus KUBECONFIG/K8S_AUTH_KUBECONFIG for ``k8s_api`` and a private TMPDIR."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(k8s_api.env())
    env["TMPDIR"] = str(tmpdir)
    # kubectl and helm cache discovery per host:port on disk too (~/.kube/cache, ~/.cache/helm): keep it per test
    env["KUBECACHEDIR"] = str(tmp_path / "kube-cache")
    for var in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
        env[var] = str(tmp_path / var.lower())
    return env

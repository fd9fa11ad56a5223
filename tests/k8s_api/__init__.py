# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A Kubernetes API test server: the real REST protocol over plain HTTP, an in-memory store, no controllers.

    from tests.k8s_api import ApiServer          # or, inside this package's tests: from ..server import ApiServer

    with ApiServer(kubeconfig_path="/tmp/kubeconfig") as api:
        ...  # point the kubernetes client, kubernetes.core, kubectl or helm at api.kubeconfig_path

``JobController(api, ...)`` (job_controller.py) plays the Job controller and ``DeploymentController(api, ...)``
(deployment_controller.py) simulates Deployment roll-outs (stand-in pods, Endpoints) when a test or the lab wants. See
README.md for what is (and is not) supported; ``python -m tests.k8s_api --help`` for the CLI.
"""

from __future__ import annotations

from .deployment_controller import DeploymentController
from .job_controller import JobController
from .resources import BUILTIN_RESOURCES, Registry, ResourceType
from .server import ApiServer, RequestRecord
from .store import Store

__all__ = ["ApiServer", "BUILTIN_RESOURCES", "DeploymentController", "JobController", "Registry", "RequestRecord", "ResourceType", "Store"]

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Integration fixtures: the Kubernetes API test server (tests/k8s_api) for Kubernetes-facing roles."""

from __future__ import annotations

from k8s_api.fixtures import k8s_api, k8s_env  # noqa: F401  pylint: disable=unused-import

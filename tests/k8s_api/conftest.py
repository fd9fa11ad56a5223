# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Make the ``k8s_api`` and ``k8s_env`` fixtures (fixtures.py) available to this package's tests."""

from __future__ import annotations

from .fixtures import k8s_api, k8s_env

__all__ = ["k8s_api", "k8s_env"]

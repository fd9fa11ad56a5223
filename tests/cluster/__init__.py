# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The lab's real Kubernetes control plane (see README.md)."""

from .cluster import LAB_NODES, Cluster, ClusterError, build, operator_rbac

__all__ = ["LAB_NODES", "Cluster", "ClusterError", "build", "operator_rbac"]

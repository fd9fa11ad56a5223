# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Kubernetes helpers for this collection's modules.

``kubeconfig``: connection settings from a kubeconfig or a pod's service account. ``client``: the API client on
urllib3 (kubernetes.core's auth options and ``K8S_AUTH_*`` variables, without importing the kubernetes package) and
``JobApi``, the raw-JSON calls the Job module makes. ``job``: the Job run/watch/wait state machine.
"""

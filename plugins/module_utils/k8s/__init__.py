# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Kubernetes helpers for this collection's modules.

``client``: an API client built the kubernetes.core way (same auth options and ``K8S_AUTH_*`` variables) and
``JobApi``, the raw-JSON calls the Job module makes. ``job``: the Job run/watch/wait state machine.
"""

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
from tests.cluster.fixtures import cluster, k8s_admin_env, k8s_env, k8s_namespace  # noqa: F401  pylint: disable=unused-import

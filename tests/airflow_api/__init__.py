# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""A stand-in for the Airflow 3.1 REST API (``/auth/token``, ``/api/v2/dags``, ``/api/v2/importErrors``,
``/api/v2/monitor/health``) over a DAG folder. See README.md; ``python -m tests.airflow_api --help``.

    from tests.airflow_api import AirflowApiServer

    with AirflowApiServer(dags_dir, username="admin", password="...") as api:
        api.url
"""

from __future__ import annotations

from .server import AirflowApiServer, scan_dags

__all__ = ["AirflowApiServer", "scan_dags"]

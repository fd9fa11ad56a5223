#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: airflow_status
short_description: Read an Airflow 3 API server's health, DAGs and import errors, waiting until it has settled
version_added: "0.1.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - Logs in to the Airflow 3 REST API (C(POST /auth/token)), reads C(GET /api/v2/monitor/health),
    every page of C(GET /api/v2/dags) and C(GET /api/v2/importErrors), and asks again every
    O(settle_interval) seconds, up to O(settle_timeout), until the API has settled - every component healthy, the
    O(required_dags) listed, at least O(expected_dags) DAGs, and every file of O(dag_files) parsed in the version
    pushed.
  - A pushed file counts as parsed when a DAG from it serves exactly the pushed source
    (C(GET /api/v2/dagSources/{dag_id}), compared by sha256) or when Airflow lists an import error for it. The DAG's
    C(last_parsed_time) is not used - the dag-processor parses the old file again until git-sync brings the new one.
  - The token is kept inside the module - it is never returned. A refused login (HTTP 401 or 403) ends the wait at
    once.
  - Read-only, the same in check mode. It never fails on what it reads - the answers are returned for the caller
    to judge (the verify role's findings); it fails only on bad arguments.
options:
  url:
    description: Base URL of the API server, for example C(http://192.0.2.10:30080).
    type: str
    required: true
  username:
    description: Airflow user.
    type: str
    required: true
  password:
    description: The user's password.
    type: str
    required: true
  validate_certs:
    description: Validate the server's TLS certificate (https URLs).
    type: bool
    default: true
  timeout:
    description: Seconds per request.
    type: int
    default: 30
  settle_timeout:
    description: Seconds to keep asking until the API has settled; C(0) asks once.
    type: int
    default: 0
  settle_interval:
    description: Seconds between two rounds of questions.
    type: int
    default: 10
  parse_delay:
    description:
      - Seconds after which an import error already listed in the first round counts for the pushed file (it may be
        the old version's, a fix just pushed); at least git-sync's period plus the dag-processor's
        C(min_file_process_interval). An import error that appears later, or whose message changes, counts at once.
    type: int
    default: 120
  page_size:
    description: DAGs per page of C(GET /api/v2/dags) (Airflow caps it at its C(maximum_page_limit), 100 by default).
    type: int
    default: 100
  expected_dags:
    description: Wait for at least this many DAGs (the caller judges the exact number).
    type: int
  required_dags:
    description: DAG ids to wait for.
    type: list
    elements: str
    default: []
  dag_files:
    description:
      - DAG files pushed just before, as M(datasurface.yellow.git_publish) returns them in its C(files); the module
        waits until Airflow has parsed each one in the pushed version.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Path of the file in the DAG repository (its file name is matched with the DAG's file).
        type: str
        required: true
      sha256:
        description: sha256 of the pushed content.
        type: str
        required: true
      status:
        description: Ignored (M(datasurface.yellow.git_publish) returns it - C(added), C(changed) or C(unchanged)).
        type: str
notes:
  - Airflow 3.1 (C(/api/v2)). The clocks of the control node and the cluster do not matter - nothing is compared by time.
seealso:
  - module: datasurface.yellow.git_publish
"""

EXAMPLES = r"""
- name: Read the Airflow API, waiting up to 5 minutes for the DAG just pushed
  datasurface.yellow.airflow_status:
    url: http://192.0.2.10:30080
    username: admin
    password: "{{ vault_yellow_airflow_admin_password }}"
    settle_timeout: 300
    required_dags: [test-dp-infrastructure]
    dag_files: "{{ publish.files | selectattr('status', 'ne', 'unchanged') }}"
  register: airflow
"""

RETURN = r"""
token:
  description: The login's HTTP status (-1 - no answer) and message; never the token.
  returned: always
  type: dict
  sample: {"status": 201, "msg": "OK"}
health:
  description: The health answer (C(status), C(json), C(msg)).
  returned: always
  type: dict
dags:
  description: The pages of C(GET /api/v2/dags) (each C(status), C(json), C(msg)); empty without a token.
  returned: always
  type: list
  elements: dict
import_errors:
  description: The answer of C(GET /api/v2/importErrors) (C(status), C(json), C(msg)).
  returned: always
  type: dict
dag_files:
  description:
    - Each pushed file - C(path), C(name), C(state) (C(parsed), C(import error) or C(pending)), C(dags) (the DAGs Airflow
      lists from a file of that name) and C(serving) (those that serve the pushed source).
  returned: always
  type: list
  elements: dict
  sample: [{"path": "dags/test_dp_infrastructure_dag.py", "name": "test_dp_infrastructure_dag.py", "state": "parsed",
            "dags": ["test-dp-infrastructure"], "serving": ["test-dp-infrastructure"]}]
settled:
  description: Whether the API settled before O(settle_timeout).
  returned: always
  type: bool
rounds:
  description: Rounds of questions asked.
  returned: always
  type: int
waited:
  description: Seconds waited.
  returned: always
  type: int
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.datasurface.yellow.plugins.module_utils.airflow_api import AirflowApi, settle, url_request

ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True),
    username=dict(type="str", required=True),
    password=dict(type="str", required=True, no_log=True),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=30),
    settle_timeout=dict(type="int", default=0),
    settle_interval=dict(type="int", default=10),
    parse_delay=dict(type="int", default=120),
    page_size=dict(type="int", default=100),
    expected_dags=dict(type="int"),
    required_dags=dict(type="list", elements="str", default=[]),
    dag_files=dict(type="list", elements="dict", default=[], options=dict(
        path=dict(type="str", required=True),
        sha256=dict(type="str", required=True),
        status=dict(type="str"),
    )),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    if not re.match(r"^https?://[^/\s]+", params["url"] or ""):
        module.fail_json(msg="url: %r is not an http(s) URL" % params["url"])
    for name, low in (("timeout", 1), ("settle_timeout", 0), ("settle_interval", 1), ("parse_delay", 0), ("page_size", 1)):
        if params[name] < low:
            module.fail_json(msg="%s: must be at least %d" % (name, low))
    for entry in params["dag_files"]:
        if not re.match(r"^[0-9a-fA-F]{64}$", entry["sha256"]):
            module.fail_json(msg="dag_files: %s: sha256 %r is not a sha256 hex digest" % (entry["path"], entry["sha256"]))
    api = AirflowApi(params["url"], url_request(params["validate_certs"], params["timeout"]))
    result = settle(api, params["username"], params["password"], timeout=params["settle_timeout"],
                    interval=params["settle_interval"], page_size=params["page_size"],
                    expected_dags=params["expected_dags"], required_dags=params["required_dags"],
                    dag_files=params["dag_files"], parse_delay=params["parse_delay"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

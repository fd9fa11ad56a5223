#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_read
short_description: Read several kinds or objects from Kubernetes in one module run
version_added: "0.2.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - Answers a list of queries, each what one M(kubernetes.core.k8s_info) task asks (a kind in an API version,
    optionally one name, a namespace and label and field selectors), in one module run and one connection, and
    returns each answer in k8s_info's shape (RV(answers[].api_found), RV(answers[].resources)). A playbook that
    needs several kinds or several named objects pays one module start-up instead of one per kind or object.
  - Kinds are found by discovery of their group version, as kubernetes.core finds them (kind, plural name,
    singular name or short name); each group version is asked once per run. Items of a list get C(apiVersion)
    and C(kind) set, as k8s_info returns them.
  - A named object that does not exist, and a selector the server rejects as a bad request, answer with no
    resources (as k8s_info). A kind the server does not serve answers C(api_found=false).
  - Reads only; runs in check mode too and never reports a change.
  - The connection is built like M(datasurface.yellow.k8s_job)'s (kubernetes.core's auth options and
    C(K8S_AUTH_*) variables, without importing the C(kubernetes) Python library).
options:
  queries:
    description: What to read, in order; the answers come back in the same order.
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description: The API version, C(v1) or C(group/version).
        type: str
        default: v1
      kind:
        description: The kind (or its plural, singular or short name).
        type: str
        required: true
      name:
        description: One object's name; without it the kind is listed.
        type: str
      namespace:
        description: The namespace of a namespaced kind; without it a namespaced kind is listed in all namespaces.
        type: str
      label_selectors:
        description: Label selectors, joined with commas.
        type: list
        elements: str
        default: []
      field_selectors:
        description: Field selectors, joined with commas.
        type: list
        elements: str
        default: []
  fail_on_error:
    description:
      - Fail the task on the first query the server refuses (or when it cannot be reached).
      - With V(false) such a query answers C(failed=true) and C(msg) (and no C(resources)) and the others are
        still answered; the task succeeds.
    type: bool
    default: true
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - urllib3 (Python library)
  - kubernetes >= 24.2.0 (Python library), only for a kubeconfig user with an C(exec) plugin or C(auth-provider)
notes:
  - Registered results that hold Secrets hold their data; use C(no_log) on such tasks as with k8s_info.
  - The answers are returned as RV(answers), not C(results), because ansible-core 2.19 takes a top-level C(results)
    list for a loop's results, prints those of its items that lack C(_ansible_no_log) even under C(no_log), and
    fails the task when one of them says C(failed).
seealso:
  - module: kubernetes.core.k8s_info
  - module: datasurface.yellow.k8s_job
"""

EXAMPLES = r"""
- name: Read the nodes and the storage classes
  datasurface.yellow.k8s_read:
    kubeconfig: "{{ yellow_kubeconfig }}"
    queries:
      - kind: Node
      - api_version: storage.k8s.io/v1
        kind: StorageClass
  register: cluster

- name: Show how many nodes there are
  ansible.builtin.debug:
    msg: "{{ cluster.answers[0].resources | length }} nodes"

- name: Read the Airflow pods and the Services, going on when one is refused
  datasurface.yellow.k8s_read:
    queries:
      - kind: Pod
        namespace: demo1
        label_selectors:
          - release=airflow
      - kind: Service
        namespace: demo1
    fail_on_error: false
  register: reads
"""

RETURN = r"""
answers:
  description: One answer per query, in order.
  returned: always
  type: list
  elements: dict
  contains:
    query:
      description: The query, as given (with its defaults).
      type: dict
      returned: always
    api_found:
      description: Whether the server serves the kind in that API version.
      type: bool
      returned: when the query was answered
    resources:
      description: The objects found (one for a name that exists, none for one that does not).
      type: list
      elements: dict
      returned: when the query was answered
    failed:
      description: The server refused the query or could not be reached (only with O(fail_on_error=false)).
      type: bool
      returned: when the query failed
    msg:
      description: Why the query failed, or that the kind is not served.
      type: str
      returned: when the query failed or its kind is not served
    reason:
      description: The failure's reason (C(Forbidden), C(ConnectionError)...).
      type: str
      returned: when the query failed
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.client import (
    HAS_URLLIB3,
    URLLIB3_IMPORT_ERROR,
    ClientError,
    api_client,
)
from ansible_collections.datasurface.yellow.plugins.module_utils.k8s.read import read_all

ARGUMENT_SPEC = copy.deepcopy(AUTH_ARG_SPEC)
ARGUMENT_SPEC.update(
    queries=dict(type="list", elements="dict", required=True, options=dict(
        api_version=dict(type="str", default="v1"),
        kind=dict(type="str", required=True),
        name=dict(type="str"),
        namespace=dict(type="str"),
        label_selectors=dict(type="list", elements="str", default=[]),
        field_selectors=dict(type="list", elements="str", default=[]),
    )),
    fail_on_error=dict(type="bool", default=True),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_URLLIB3:
        module.fail_json(msg=missing_required_lib("urllib3"), exception=URLLIB3_IMPORT_ERROR)
    queries = module.params["queries"]
    try:
        client = api_client(module.params)
    except ClientError as exc:
        if module.params["fail_on_error"]:
            module.fail_json(msg=str(exc), changed=False, answers=[])
        module.exit_json(changed=False, answers=[dict(query=query, failed=True, msg=str(exc), reason="ClientError") for query in queries])
    answers, error = read_all(client, queries, module.params["fail_on_error"])
    if error is not None:
        module.fail_json(msg=error, changed=False, answers=answers)
    module.exit_json(changed=False, answers=answers)


if __name__ == "__main__":
    main()

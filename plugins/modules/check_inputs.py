#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: check_inputs
short_description: Check a role's inputs against its argument spec and the collection's input rules
version_added: "0.2.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - The one input validation layer of the collection. The first task of every role entry point runs it, and the
    preflight phase runs it for every role of every host before anything changes.
  - Reads the variables named in the role entry point's C(meta/argument_specs.yml) from the play (with the
    role's C(defaults/main.yml) for those the play does not set, when O(defaults_from) names the role), each
    evaluated on its own, so an undefined vault variable is reported as C(cannot be evaluated) instead of
    aborting.
  - A value of C(null) counts as not set, so C(required) options are reported missing. A list option given a
    string (C("a,b")) and a dict option given a string are refused. The spec's types are then applied with
    Ansible's rules (booleans C("false"), C("no"), C("0") are false) and the role's own checks run on the
    converted values.
  - For every role, durations (Helm's timeout, git-sync's period), Kubernetes quantities, image references,
    ports, timeouts and counts are checked, and credentials embedded in any URL are refused.
  - Every message names its variable and never repeats a secret's value. Runs on the controller only and
    changes nothing (also in check mode).
  - This is an action plugin; it does not connect to the managed host.
options:
  role:
    description: The role whose inputs are checked (a role of this collection, e.g. C(postgres_host)).
    type: str
    required: true
  entry_point:
    description: The entry point of the role's argument spec (C(main), or e.g. C(pull), C(update_dags)).
    type: str
    default: main
  os_family:
    description: The host's C(ansible_facts.os_family), for the roles that support only some families.
    type: str
  defaults_from:
    description:
      - Roles of this collection whose C(defaults/main.yml) supply the variables the play does not set, in
        order (later ones win). The preflight phase gives every role the host runs; inside a role the defaults
        are already loaded, so leave it empty.
    type: list
    elements: str
    default: []
  example_passwords:
    description:
      - V(skip) checks nothing about example passwords; V(refuse) refuses the HOWTO's example passwords and the
        C(CHANGE-ME) placeholder of C(vault.yml.example) in every secret input; V(allow) refuses only the
        placeholder (the lab).
    type: str
    choices: [skip, refuse, allow]
    default: skip
  fail:
    description: Fail when a problem is found (otherwise only return them).
    type: bool
    default: true
attributes:
  check_mode:
    description: Runs in check mode as in a normal run (it only reads).
    support: full
  diff_mode:
    description: Nothing to show a diff of.
    support: none
notes:
  - Only the names of the problems' variables and non-secret values appear in the result.
"""

EXAMPLES = r"""
- name: Check the PostgreSQL host inputs
  datasurface.yellow.check_inputs:
    role: postgres_host
    os_family: "{{ ansible_facts.os_family }}"

- name: Collect the problems of the bootstrap role's inputs (preflight)
  datasurface.yellow.check_inputs:
    role: bootstrap
    defaults_from: [platform_prereqs, airflow, bootstrap]
    example_passwords: refuse
    fail: false
  register: bootstrap_inputs
"""

RETURN = r"""
problems:
  description: Every problem found, each starting with the variable it is about; secrets redacted.
  returned: always
  type: list
  elements: str
  sample: ["yellow_pg_hba_method: 'trust' is refused (...); use 'scram-sha-256', or set yellow_pg_allow_weak_auth: true to opt in"]
checked:
  description: How many options of the entry point's spec were looked at.
  returned: always
  type: int
  sample: 19
summary:
  description:
    - Non-secret inputs other checks need (the preflight's cross-checks), converted to their spec types. For
      C(postgres_host) the user and database names and the pg_hba CIDRs; for C(airflow) the database user and
      name, the storage classes and the image tag; empty for the other roles.
  returned: always
  type: dict
  sample: {"yellow_pg_users": ["datasurfacedt"], "yellow_pg_databases": ["airflow_db"], "yellow_pg_hba_cidrs": ["10.42.0.0/16"]}
"""

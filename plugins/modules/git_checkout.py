#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: git_checkout
short_description: Check out a git repository at a pinned ref, token-safe
version_added: "0.1.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - Makes O(dest) a clean checkout of O(repo) at O(version) (a tag, a commit or a branch), the way the
    bootstrap reads the ecosystem model at a pinned ref.
  - Local changes and untracked files in O(dest) are discarded, so the checkout always matches the ref.
  - Reports C(changed) only when the checked-out commit moved (or local changes had to be discarded).
extends_documentation_fragment:
  - datasurface.yellow.git_auth
options:
  dest:
    description: Directory of the checkout on the host the task runs on; created when missing.
    type: path
    required: true
  version:
    description:
      - Tag, commit (full or abbreviated sha) or branch to check out. Pin a tag or a commit for
        repeatable runs; a branch follows its latest commit.
    type: str
    required: true
attributes:
  check_mode:
    description: Resolves the ref with C(git ls-remote) and reports whether the checkout would move; writes nothing.
    support: full
  diff_mode:
    description: Shows the commit before and after.
    support: full
seealso:
  - module: datasurface.yellow.git_publish
  - module: ansible.builtin.git
"""

EXAMPLES = r"""
- name: Check out the ecosystem model at its release tag
  datasurface.yellow.git_checkout:
    repo: https://github.com/example-org/datasurface-model.git
    version: v1.4.0
    dest: "{{ lookup('env', 'HOME') }}/.cache/datasurface-yellow/model"
    username: "{{ vault_yellow_git_username }}"
    token: "{{ vault_yellow_git_token }}"
  register: model
"""

RETURN = r"""
commit:
  description: The commit checked out (in check mode, the one that would be).
  returned: success
  type: str
  sample: 3f786850e387550fdab836ed7e6dc881de23001b
before:
  description: The commit checked out before, or null when there was no checkout.
  returned: success
  type: str
version:
  description: The ref asked for.
  returned: success
  type: str
failure_kind:
  description: On failure, C(auth), C(not_found), C(timeout) or C(error).
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.datasurface.yellow.plugins.module_utils.git import Git, GitError, checkout, repo_url_problem

ARGUMENT_SPEC = dict(
    repo=dict(type="str", required=True),
    dest=dict(type="path", required=True),
    version=dict(type="str", required=True),
    username=dict(type="str"),
    token=dict(type="str", no_log=True),
    timeout=dict(type="int", default=300),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    problem = repo_url_problem(params["repo"])
    if problem:
        module.fail_json(msg="repo: %s" % problem)
    if not params["version"].strip() or params["version"].startswith("-"):
        module.fail_json(msg="version: %r is not a tag, commit or branch name" % params["version"])
    if params["timeout"] < 1:
        module.fail_json(msg="timeout: must be at least 1 (seconds)")
    with Git(params["username"], params["token"], params["timeout"]) as git:
        try:
            result = checkout(git, params["repo"], params["dest"], params["version"], module.check_mode)
        except GitError as exc:
            module.fail_json(msg="%s (%s): %s" % (params["repo"], params["version"], exc), failure_kind=exc.kind)
    if module._diff and result["changed"]:  # pylint: disable=protected-access
        result["diff"] = {"before": {"commit": result["before"]}, "after": {"commit": result["commit"]}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

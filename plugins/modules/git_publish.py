#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: git_publish
short_description: Commit files into a directory of a git branch and push, only when they changed
version_added: "0.1.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - Puts O(files) into O(path) of O(branch) of O(repo) (for example the generated infrastructure DAG into
    the C(dags/) directory git-sync serves to Airflow), commits with the given author and message and pushes.
  - Nothing is committed or pushed when every file already has the same content in the branch, so a second run
    reports C(changed=false) and leaves the repository's history alone. Other files in the branch are kept.
  - The local clone in O(dest) is reset to the remote branch before each run; a branch the remote does not
    have yet (an empty DAG repository) is created. A push refused because someone pushed meanwhile is
    retried on top of the new head.
extends_documentation_fragment:
  - datasurface.yellow.git_auth
options:
  dest:
    description: Directory for the local clone on the host the task runs on; created when missing.
    type: path
    required: true
  branch:
    description: Branch to commit to.
    type: str
    default: main
  files:
    description: Files to publish; each lands as O(path)/<file name>.
    type: list
    elements: path
    required: true
  path:
    description: Directory in the repository for the files (C(dags) for git-sync's sub-path); empty for the top.
    type: str
    default: dags
  commit_message:
    description: Commit message.
    type: str
    default: Update generated files
  author_name:
    description: Commit author and committer name.
    type: str
    default: DataSurface Yellow
  author_email:
    description: Commit author and committer e-mail.
    type: str
    default: datasurface-yellow@localhost
  push:
    description: Push the commit. With V(false) the commit stays in O(dest) (and is redone on the next run).
    type: bool
    default: true
attributes:
  check_mode:
    description: Compares in a throw-away clone and reports what would be committed; neither O(dest) nor the remote change.
    support: full
  diff_mode:
    description: Shows each changed file before and after.
    support: full
seealso:
  - module: datasurface.yellow.git_checkout
"""

EXAMPLES = r"""
- name: Publish the infrastructure DAG to the git-sync repository
  datasurface.yellow.git_publish:
    repo: https://github.com/example-org/datasurface-dags.git
    branch: main
    path: dags
    files:
      - /home/ops/.cache/datasurface-yellow/output/Test_DP/test_dp_infrastructure_dag.py
    dest: /home/ops/.cache/datasurface-yellow/dag-repo
    commit_message: Update the Test_DP infrastructure DAG
    username: "{{ vault_yellow_git_username }}"
    token: "{{ vault_yellow_git_token }}"
"""

RETURN = r"""
commit:
  description: The branch head afterwards (the new commit when one was made).
  returned: success
  type: str
before:
  description: The remote branch head before, or null when the branch did not exist.
  returned: success
  type: str
branch:
  description: The branch.
  returned: success
  type: str
pushed:
  description: Whether a commit was pushed.
  returned: success
  type: bool
files:
  description: Each file with its path in the repository, C(status) (C(added), C(changed), C(unchanged)) and sha256.
  returned: success
  type: list
  elements: dict
  sample: [{"path": "dags/test_dp_infrastructure_dag.py", "status": "changed", "sha256": "9f86d08..."}]
failure_kind:
  description: On failure, C(auth), C(not_found), C(rejected), C(timeout) or C(error).
  returned: failure
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.datasurface.yellow.plugins.module_utils.git import Git, GitError, publish, repo_url_problem

ARGUMENT_SPEC = dict(
    repo=dict(type="str", required=True),
    dest=dict(type="path", required=True),
    branch=dict(type="str", default="main"),
    files=dict(type="list", elements="path", required=True),
    path=dict(type="str", default="dags"),
    commit_message=dict(type="str", default="Update generated files"),
    author_name=dict(type="str", default="DataSurface Yellow"),
    author_email=dict(type="str", default="datasurface-yellow@localhost"),
    push=dict(type="bool", default=True),
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
    if not params["branch"].strip() or params["branch"].startswith("-") or ".." in params["branch"]:
        module.fail_json(msg="branch: %r is not a branch name" % params["branch"])
    path = params["path"].strip("/")
    if path.startswith("..") or "/../" in "/%s/" % path or path.startswith("-"):
        module.fail_json(msg="path: %r must be a directory inside the repository" % params["path"])
    if not params["files"]:
        module.fail_json(msg="files: give at least one file")
    names = [os.path.basename(f) for f in params["files"]]
    if len(set(names)) != len(names):
        module.fail_json(msg="files: two files have the same name; they would land on the same path")
    missing = [f for f in params["files"] if not os.path.isfile(f)]
    if missing:
        module.fail_json(msg="files: not found: %s" % ", ".join(missing))
    if not params["commit_message"].strip():
        module.fail_json(msg="commit_message: must not be empty")
    if params["timeout"] < 1:
        module.fail_json(msg="timeout: must be at least 1 (seconds)")
    with Git(params["username"], params["token"], params["timeout"]) as git:
        try:
            result = publish(git, params["repo"], params["dest"], params["branch"], params["files"], path,
                             params["commit_message"], params["author_name"], params["author_email"], params["push"],
                             module.check_mode)
        except GitError as exc:
            module.fail_json(msg="%s (branch %s): %s" % (params["repo"], params["branch"], exc), failure_kind=exc.kind)
    diff = result.pop("diff")
    if module._diff and diff:  # pylint: disable=protected-access
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()

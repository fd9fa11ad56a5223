#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: datasurface_bootstrap
short_description: Generate a DataSurface platform's bootstrap artifacts from a model
version_added: "0.1.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - Runs the DataSurface generator (C(python -m datasurface.cmd.platform generatePlatformBootstrap)) for one
    platform service provider (PSP) of a checked-out model, in a container (the DataSurface image) or as a
    process with a local Python, and keeps O(output_dir)/O(psp)/ up to date with what it writes.
  - The generator always runs from an empty working directory of its own and writes into a fresh temporary
    directory. The model loader appends the model directory to the end of C(sys.path) and imports C(eco), so an
    C(eco.py) in the working directory would otherwise be loaded instead of the model's.
  - The generated files are then compared with O(output_dir)/O(psp)/ by content (sha256). Only when a file
    was added, changed or disappeared is the task changed. New and changed files are written atomically
    (a temporary file in the same directory, then renamed), then files the generator no longer writes are
    removed. The directory O(output_dir)/O(psp)/ belongs to this module; do not keep other files in it.
  - Reports the files (RV(files)), the Kubernetes Jobs in the generated YAML files (RV(jobs)), the Airflow DAG
    files (RV(dag_files)) and the resources of C(kubernetes-bootstrap.yaml) (RV(resources)). Which files come
    out depends on the DataSurface version (some have no model-merge job, newer ones add an MCP server); the
    module reports what came out and assumes no fixed list.
  - Failures are classified (RV(failure_kind)) and explained. An unknown PSP (the generator then exits 0 and
    writes nothing) fails naming the PSP. An older generator that rejects C(--rte-name) fails saying to unset
    O(rte_name) or use a newer image. A model that does not load fails with the generator's last lines
    (C(Failed to load ecosystem from ...) and the traceback's end). A generator that exceeds O(timeout) is killed
    (its container too).
options:
  model_dir:
    description:
      - Directory holding the checked-out model (its C(eco.py)), on the control node. It must exist and hold at
        least one file. With O(runner=container) it is mounted read-only at C(/yellow/model).
    type: path
    required: true
  output_dir:
    description:
      - Directory the artifacts end up in, as O(output_dir)/O(psp)/ (created when missing, outside check mode).
        It may be inside O(model_dir).
    type: path
    required: true
  psp:
    description:
      - Name of the platform service provider in the model (for example C(Test_DP)); passed as C(--psp).
      - The generator names its output directory exactly like this, so it must not contain path separators,
        be C(.) or C(..), or start with C(-).
    type: str
    required: true
  rte_name:
    description:
      - Runtime environment name, passed as C(--rte-name) only when set (for example C(prod)).
      - Older DataSurface releases do not know C(--rte-name); leave it unset for them.
    type: str
  ring_level:
    description: Passed as C(--ringLevel).
    type: int
    default: 0
  runner:
    description:
      - C(container) runs the generator in O(image) with a container O(engine) (the usual way).
      - C(python) runs O(python) on the control node; DataSurface must be importable by it (for example through
        C(PYTHONPATH) in O(plain_environment), or a virtualenv's interpreter).
    type: str
    choices: [container, python]
    default: container
  engine:
    description:
      - Container engine for O(runner=container). C(auto) uses the first of C(podman), C(docker), C(nerdctl) found
        on C(PATH).
    type: str
    choices: [auto, podman, docker, nerdctl]
    default: auto
  image:
    description:
      - The DataSurface image, for example C(datasurface/datasurface:v1.1.0). Required with O(runner=container).
      - Its interpreter O(python) must run C(-m datasurface.cmd.platform); an image entrypoint that does not pass
        its arguments on is not supported.
    type: str
  pull:
    description:
      - Image pull policy for O(runner=container), passed as C(--pull=...).
      - Registry credentials are the engine's business (C(podman login), C(docker login)).
    type: str
    choices: [always, missing, never]
    default: missing
  network:
    description:
      - Network of the container, passed as C(--network=...). The default C(none) gives the generator no network
        (it only reads the mounted model and writes files); set for example C(bridge) or C(host) when the model
        needs network access to load, or an empty string to use the engine's default.
    type: str
    default: none
  container_user:
    description:
      - User (C(uid[:gid]) or name) to run the container as (C(--user)); default is the image's user.
      - Files the container writes are read, copied and cleaned up by the module whatever their owner (when the
        module's user cannot remove them, a short C(chmod) container opens them up first).
    type: str
  python:
    description:
      - Python interpreter that runs the generator. With O(runner=python) a name looked up on the control node's
        C(PATH) or a path; with O(runner=container) the interpreter's name or path inside O(image).
    type: path
    default: python3
  environment:
    description:
      - Extra environment variables for the generator whose values may be secret (tokens, passwords).
      - With O(runner=container) each is passed as C(--env NAME), the value travelling in the container engine's
        own environment, so no value is ever part of a command line. With O(runner=python) they are set in the
        generator's environment.
      - Values are masked (C(********)) wherever they appear in the module's result or log, so do not put short or
        common non-secret values here (for example C(1) or C(INFO)); use O(plain_environment) for those.
      - Values are passed as strings (booleans as C(true)/C(false)).
    type: dict
  plain_environment:
    description:
      - Extra environment variables for the generator that are not secret (for example C(PYTHONPATH) or a log
        level). Passed like O(environment) but not masked in the result. A name must not be in both.
    type: dict
  timeout:
    description: Seconds the generator may run; when exceeded it (and its container) is killed and the task fails.
    type: int
    default: 600
notes:
  - Runs on the control node; delegate the task to C(localhost), or run it in a play for C(localhost).
  - With O(runner=python), C(PYTHONDONTWRITEBYTECODE=1) is set (unless given) so that importing the model leaves no
    C(__pycache__) in the checkout. Paths in O(plain_environment) (such as C(PYTHONPATH)) should be absolute, as the
    generator's working directory is an empty temporary directory.
  - Check mode runs the generator into a temporary directory (nothing outside it changes) and reports what would
    change; nothing is written to O(output_dir).
  - Diff mode shows each added, changed or removed file's text before and after (up to 64 KiB per file; a note for
    larger or binary files).
requirements:
  - PyYAML (always present with ansible-core)
  - for O(runner=container), C(podman), C(docker) or C(nerdctl) on the control node
attributes:
  check_mode:
    description: Runs the generator into a temporary directory and reports what would change, writing nothing.
    support: full
  diff_mode:
    description: Shows each added, changed or removed file before and after.
    support: full
seealso:
  - name: DataSurface
    description: The DataSurface project.
    link: https://github.com/datasurface/datasurface
"""

EXAMPLES = r"""
- name: Generate the Test_DP bootstrap artifacts with the DataSurface image
  datasurface.yellow.datasurface_bootstrap:
    model_dir: "{{ playbook_dir }}/model"
    output_dir: "{{ playbook_dir }}/generated_output"
    psp: Test_DP
    rte_name: prod
    image: "datasurface/datasurface:{{ yellow_datasurface_image_tag }}"
  delegate_to: localhost
  register: bootstrap

- name: Apply the generated Jobs
  kubernetes.core.k8s:
    src: "{{ item.file }}"
    state: present
  loop: "{{ bootstrap.jobs }}"
  loop_control:
    label: "{{ item.name }}"

- name: Generate with a local DataSurface installation, passing a token without showing it
  datasurface.yellow.datasurface_bootstrap:
    model_dir: /srv/models/demo1
    output_dir: /srv/generated
    psp: Test_DP
    runner: python
    python: /opt/datasurface/venv/bin/python
    environment:
      GITHUB_TOKEN: "{{ vault_yellow_git_token }}"
    plain_environment:
      DATASURFACE_LOG_LEVEL: DEBUG
  delegate_to: localhost

- name: An older DataSurface release (no --rte-name, no model-merge job)
  datasurface.yellow.datasurface_bootstrap:
    model_dir: "{{ playbook_dir }}/model"
    output_dir: "{{ playbook_dir }}/generated_output"
    psp: Test_DP
    image: datasurface/datasurface:v0.9.0
    engine: docker
    pull: always
  delegate_to: localhost
"""

RETURN = r"""
output_path:
  description: O(output_dir)/O(psp), where the artifacts are (in check mode, would be).
  returned: success
  type: str
  sample: /srv/generated/Test_DP
files:
  description:
    - Every file generated now or present before, sorted by name.
    - C(status) is C(added), C(changed), C(unchanged) or C(removed) (no longer generated, so deleted).
    - C(sha256) and C(size) are of the new content (of the old one for a removed file; null for a removed entry that
      was not a regular file).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: Path relative to RV(output_path) (C(/)-separated).
      type: str
      sample: test_dp_ring1_init_job.yaml
    path:
      description: Absolute path in RV(output_path).
      type: str
      sample: /srv/generated/Test_DP/test_dp_ring1_init_job.yaml
    sha256:
      description: SHA-256 of the content, hex.
      type: str
    size:
      description: Size in bytes.
      type: int
    status:
      description: C(added), C(changed), C(unchanged) or C(removed).
      type: str
      sample: unchanged
jobs:
  description: Every C(kind=Job) document in the generated C(*.yaml) and C(*.yml) files.
  returned: success
  type: list
  elements: dict
  contains:
    file:
      description: Absolute path of the file holding the Job, in RV(output_path).
      type: str
      sample: /srv/generated/Test_DP/test_dp_ring1_init_job.yaml
    name:
      description: The Job's C(metadata.name).
      type: str
      sample: test-dp-ring1-init
    namespace:
      description: The Job's C(metadata.namespace) (null when not set).
      type: str
      sample: demo1
    image:
      description: The image of the Job's first container.
      type: str
      sample: datasurface/datasurface:v1.1.0
    role:
      description:
        - C(ring1_init), C(model_merge), C(reconcile_views) or C(other), guessed from the file name (C(-) and C(_)
          alike), else from the Job's name.
      type: str
      sample: ring1_init
dag_files:
  description: Absolute paths of the generated files whose names end in C(_dag.py) (the Airflow DAGs).
  returned: success
  type: list
  elements: str
  sample: [/srv/generated/Test_DP/test_dp_infrastructure_dag.py]
bootstrap_manifest:
  description: Absolute path of C(kubernetes-bootstrap.yaml), or null when the generator wrote none.
  returned: success
  type: str
  sample: /srv/generated/Test_DP/kubernetes-bootstrap.yaml
resources:
  description:
    - The documents of C(kubernetes-bootstrap.yaml), in order. It may hold Deployments and Services of its own Airflow
      (which conflict with a Helm-installed Airflow) and, in newer releases, an MCP server.
  returned: success
  type: list
  elements: dict
  contains:
    api_version:
      description: C(apiVersion).
      type: str
      sample: apps/v1
    kind:
      description: C(kind).
      type: str
      sample: Deployment
    name:
      description: C(metadata.name).
      type: str
      sample: test-dp-mcp
    namespace:
      description: C(metadata.namespace) (null when not set).
      type: str
      sample: demo1
command:
  description:
    - The command run (the container engine's or the interpreter's). It holds no environment value, only names
      (C(--env NAME)).
  returned: when the generator ran
  type: list
  elements: str
  sample: [/usr/bin/podman, run, --rm, --name, yellow-bootstrap-0123456789ab, --pull=missing, --network=none]
runner:
  description: O(runner).
  returned: when the generator ran
  type: str
engine:
  description: The container engine used (C(podman), C(docker), C(nerdctl)), null with O(runner=python).
  returned: when the generator ran
  type: str
rc:
  description: The generator's exit code (the engine's for a container that could not run); null after a timeout.
  returned: when the generator ran
  type: int
stdout_lines:
  description: The last 40 lines of the generator's standard output (secret values masked).
  returned: when the generator ran
  type: list
  elements: str
stderr_lines:
  description: The last 40 lines of the generator's standard error (secret values masked).
  returned: when the generator ran
  type: list
  elements: str
generator_seconds:
  description: How long the generator ran, in seconds.
  returned: when the generator finished
  type: float
failure_kind:
  description:
    - On failure, C(input) (an option is unusable; nothing ran), C(unknown_psp), C(rte_name_unsupported), C(model_load),
      C(not_installed), C(arguments), C(engine), C(timeout), C(invalid_output) (the generator wrote a symlink, a
      special file or YAML that does not parse), C(output) (O(output_dir) could not be updated) or C(error).
  returned: failure
  type: str
  sample: unknown_psp
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.datasurface.yellow.plugins.module_utils.bootstrap_generator import (
    YAML_IMPORT_ERROR,
    GeneratorFailure,
    InvalidInput,
    check_params,
    generate,
)

ARGUMENT_SPEC = dict(
    model_dir=dict(type="path", required=True),
    output_dir=dict(type="path", required=True),
    psp=dict(type="str", required=True),
    rte_name=dict(type="str"),
    ring_level=dict(type="int", default=0),
    runner=dict(type="str", choices=["container", "python"], default="container"),
    engine=dict(type="str", choices=["auto", "podman", "docker", "nerdctl"], default="auto"),
    image=dict(type="str"),
    pull=dict(type="str", choices=["always", "missing", "never"], default="missing"),
    network=dict(type="str", default="none"),
    container_user=dict(type="str"),
    python=dict(type="path", default="python3"),
    environment=dict(type="dict", no_log=True),
    plain_environment=dict(type="dict"),
    timeout=dict(type="int", default=600),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_if=[("runner", "container", ["image"])],
        supports_check_mode=True,
    )
    if YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR, failure_kind="input")
    try:
        plan = check_params(module.params)
    except InvalidInput as exc:
        module.fail_json(msg=str(exc), failure_kind="input")
    for warning in plan["warnings"]:
        module.warn(warning)
    try:
        result = generate(plan, module.check_mode, module._diff)  # pylint: disable=protected-access
    except GeneratorFailure as exc:
        module.fail_json(msg=str(exc), **dict({"failure_kind": exc.kind}, **exc.result))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

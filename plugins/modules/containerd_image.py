#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: containerd_image
short_description: Make a container image present in containerd on a node
version_added: "0.1.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - Makes an image present in a containerd namespace (by default C(k8s.io), the one the kubelet uses),
    pulling it only when needed.
  - A digest reference is pulled when the image is absent or stored with another digest. A tag is
    pulled when absent; with O(refresh=true) the registry is asked for the tag's current digest and
    the image is pulled only when that digest moved (the C(latest) update flow).
  - Pulls go through C(ctr) (always present with containerd; C(k3s ctr) on K3s nodes) or C(crictl)
    (C(k3s crictl) on K3s nodes), which honours the CRI registry configuration such as K3s's
    C(registries.yaml).
  - The registry password is typed into C(ctr)'s password prompt through a pseudo-terminal, so it never
    appears in any process's arguments or environment, in the module's output or in logs.
  - Failed pulls are retried with exponential backoff and jitter inside one overall O(timeout). A
    failure names the node, the image and its kind (C(auth), C(not_found), C(tls), C(unreachable),
    C(timeout), C(error)); authentication, not-found and TLS failures are not retried.
options:
  name:
    description:
      - Image reference, for example C(registry.example.com/datasurface/datasurface:v1.2.3),
        C(busybox) (Docker Hub defaults apply) or a C(@sha256:...) digest reference.
    type: str
    required: true
    aliases: [image]
  namespace:
    description: containerd namespace.
    type: str
    default: k8s.io
  address:
    description:
      - containerd socket. Default is the K3s socket when K3s runs on the node, else containerd's default
        (C(/run/containerd/containerd.sock)).
    type: path
  tool:
    description:
      - How to pull. C(auto) uses crictl when it exists, O(namespace=k8s.io) and no credentials are given
        (so the CRI's registry configuration applies), ctr otherwise.
      - C(crictl) cannot take O(username) and O(password); configure the registry auth for the CRI instead.
    type: str
    choices: [auto, ctr, crictl]
    default: auto
  username:
    description: Registry user name.
    type: str
  password:
    description: Registry password or token. Required with O(username).
    type: str
  plain_http:
    description: Talk plain HTTP to the registry (a lab registry without TLS).
    type: bool
    default: false
  skip_verify:
    description: Do not verify the registry's TLS certificate.
    type: bool
    default: false
  ca_file:
    description: CA bundle to verify the registry's certificate with.
    type: path
  registry_url:
    description:
      - Base URL to ask for the current digest with O(refresh=true), when it is not the image's registry
        (a mirror). Default C(https://<registry>) (C(http://) with O(plain_http=true)).
    type: str
  refresh:
    description:
      - For a tag that is present, ask the registry for the tag's current digest and pull when it moved.
    type: bool
    default: false
  platform:
    description: Platform to pull and unpack (for example C(linux/arm64)); default is the node's.
    type: str
  pin:
    description:
      - Label the image C(io.cri-containerd.pinned=pinned) so the kubelet's image garbage collection keeps
        it (honoured by containerd 1.7 and later).
    type: bool
    default: false
  timeout:
    description: Overall limit in seconds for the whole operation, all attempts included.
    type: int
    default: 900
  retries:
    description: Further attempts after a failed pull (only for retryable failures).
    type: int
    default: 3
  retry_delay:
    description: First delay in seconds between attempts; it doubles each time (with +-50% jitter).
    type: float
    default: 2.0
  retry_max_delay:
    description: Upper bound in seconds of one delay between attempts.
    type: float
    default: 30.0
notes:
  - Runs on the node; needs root (or access to the containerd socket).
  - Check mode reports whether a pull would happen (including the registry digest lookup for O(refresh=true))
    without pulling or labelling.
  - Supports diff mode (the digest before and after).
attributes:
  check_mode:
    description: Reports whether a pull (or pin) would happen without doing it.
    support: full
  diff_mode:
    description: Shows the stored digest before and after.
    support: full
seealso:
  - name: containerd ctr
    description: containerd's command line client.
    link: https://github.com/containerd/containerd/blob/main/docs/getting-started.md
"""

EXAMPLES = r"""
- name: Pre-pull the DataSurface image on every node
  datasurface.yellow.containerd_image:
    name: "registry.example.com/datasurface/datasurface:{{ yellow_datasurface_image_tag }}"
    username: "{{ vault_yellow_registry_user }}"
    password: "{{ vault_yellow_registry_token }}"
    pin: true

- name: Pull the latest tag again only when it moved in the registry
  datasurface.yellow.containerd_image:
    name: registry.example.com/datasurface/datasurface:latest
    username: "{{ vault_yellow_registry_user }}"
    password: "{{ vault_yellow_registry_token }}"
    refresh: true
  register: pulled

- name: Pull through K3s's CRI (registries.yaml holds the credentials)
  datasurface.yellow.containerd_image:
    name: registry.example.com/datasurface/datasurface@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    tool: crictl
"""

RETURN = r"""
image:
  description: The fully qualified reference the image is stored under.
  returned: always
  type: str
  sample: registry.example.com/datasurface/datasurface:v1.2.3
digest:
  description: The stored image's digest afterwards (in check mode, before).
  returned: always
  type: str
  sample: sha256:1c446383412971872f308d32b24e215482af180e8a545e70e494ad7a200a9426
digest_before:
  description: The stored image's digest before, or null when it was absent.
  returned: always
  type: str
registry_digest:
  description: The tag's digest in the registry (only looked up with O(refresh=true) for a present tag).
  returned: always
  type: str
size:
  description: Image size as containerd reports it.
  returned: always
  type: str
  sample: 84.9 MiB
size_bytes:
  description: RV(size) in bytes (approximate).
  returned: always
  type: int
pulled:
  description: Whether a pull happened.
  returned: always
  type: bool
pull_skipped:
  description: Whether the image was already as wanted, so no pull was needed.
  returned: always
  type: bool
reason:
  description: Why a pull was (or in check mode would be) made, or C(present).
  returned: always
  type: str
  sample: tag moved in the registry
attempts:
  description: Pull attempts made.
  returned: always
  type: int
tool:
  description: The tool that pulls (C(ctr) or C(crictl)).
  returned: always
  type: str
pinned:
  description: Whether the image carries the pin label afterwards.
  returned: always
  type: bool
seconds:
  description: Time the module spent, in seconds.
  returned: always
  type: float
failure_kind:
  description: On failure, C(auth), C(not_found), C(tls), C(unreachable), C(timeout) or C(error).
  returned: failure
  type: str
"""

import platform as _platform

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.datasurface.yellow.plugins.module_utils.containerd_image import PullFailure, ensure_image
from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import InvalidReference, parse_reference

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, aliases=["image"]),
    namespace=dict(type="str", default="k8s.io"),
    address=dict(type="path"),
    tool=dict(type="str", choices=["auto", "ctr", "crictl"], default="auto"),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    plain_http=dict(type="bool", default=False),
    skip_verify=dict(type="bool", default=False),
    ca_file=dict(type="path"),
    registry_url=dict(type="str"),
    refresh=dict(type="bool", default=False),
    platform=dict(type="str"),
    pin=dict(type="bool", default=False),
    timeout=dict(type="int", default=900),
    retries=dict(type="int", default=3),
    retry_delay=dict(type="float", default=2.0),
    retry_max_delay=dict(type="float", default=30.0),
)


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_together=[("username", "password")],
        supports_check_mode=True,
    )
    params = module.params
    node = _platform.node()
    try:
        parse_reference(params["name"])
    except InvalidReference as exc:
        module.fail_json(msg="name: %s" % exc, failure_kind="error")
    if params["timeout"] < 1:
        module.fail_json(msg="timeout: must be at least 1 (seconds)")
    if params["retries"] < 0:
        module.fail_json(msg="retries: must be 0 or more")
    if params["registry_url"] and not params["registry_url"].startswith(("http://", "https://")):
        module.fail_json(msg="registry_url: must start with http:// or https://")
    try:
        result = ensure_image(params, module.check_mode)
    except PullFailure as exc:
        module.fail_json(
            msg="%s: %s: %s: %s" % (node, params["name"], exc.kind, exc),
            failure_kind=exc.kind,
            attempts=exc.attempts,
            node=node,
        )
    if module._diff and result["changed"]:  # pylint: disable=protected-access
        after = result["digest"]
        if module.check_mode and result["reason"] != "present":
            after = result["registry_digest"] or "(the digest a real run pulls)"
        result["diff"] = {"before": {"digest": result["digest_before"]}, "after": {"digest": after}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

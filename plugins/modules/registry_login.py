#!/usr/bin/python
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_login
short_description: Check registry credentials before they are written anywhere
version_added: "0.1.0"
author: DataSurface Yellow maintainers (@datasurface)
description:
  - Checks that an OCI/Docker registry accepts a user name and password (or token) with an
    authenticated request, and changes nothing. Run it before the credentials go into
    C(registries.yaml), containerd configuration or an image pull secret, so that a wrong password
    stops the play instead of being deployed.
  - Sends C(GET /v2/) and follows the registry's C(WWW-Authenticate) challenge, as C(docker login)
    does. C(Basic) repeats the request with the credentials; C(Bearer) asks the challenge's token
    service (C(realm), C(service)) for a token with the credentials, which is where the token
    service checks them, then repeats the request with the token.
  - With O(image), also sends C(HEAD) for that image's manifest, which proves that the credentials
    may pull it.
  - A failure message starts with O(variable), so it names the inventory variable to fix, and says
    what went wrong. The password is never part of the result or any message; it travels only in
    the C(Authorization) header of the requests.
  - A registry that answers C(/v2/) without credentials cannot prove them; the result then says
    RV(authenticated=false) and the module warns, unless the registry refuses the credentials.
options:
  registry:
    description:
      - The registry to check. A URL with scheme and host (C(http://10.0.0.5:5000) for a registry
        without TLS), a host name (C(ghcr.io), C(registry.example.com:5000); HTTPS), or a server key
        as written in a docker config (for C(https://index.docker.io/v1/) or C(docker.io), Docker Hub's
        registry API C(https://registry-1.docker.io) is asked).
      - A path in the URL is ignored (the registry API is always at C(/v2/)).
    type: str
    required: true
  username:
    description: Registry user name.
    type: str
  password:
    description:
      - Registry password or token. Required with O(username).
      - Without O(username) and O(password) the module only checks that the registry (and O(image))
        can be reached anonymously.
    type: str
  image:
    description:
      - An image to check pull access for, as a reference (C(registry.example.com/datasurface/datasurface:v1.2.3))
        or C(repository:tag). Its manifest is asked for at O(registry); the registry part of the
        reference is not used (so a mirror endpoint can be checked).
    type: str
  variable:
    description:
      - Name of the variable the password comes from, for messages (for example
        C(yellow_node_registries[0].password) or C(yellow_k8s_registry_password)). Every failure
        message starts with it.
    type: str
    default: password
  ca_file:
    description: CA bundle to verify the registry's certificate with.
    type: path
  skip_verify:
    description: Do not verify the registry's TLS certificate.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 30
notes:
  - "Runs where the task runs: on a cluster node (to check from where the node pulls) or on the control node."
  - Redirects are followed; the C(Authorization) header is dropped when a redirect leaves the host.
attributes:
  check_mode:
    description: Runs the same checks in check mode; it never changes anything.
    support: full
  diff_mode:
    description: Nothing to show; the module changes nothing.
    support: none
seealso:
  - name: Docker registry token authentication
    description: The Bearer token flow the module follows.
    link: https://distribution.github.io/distribution/spec/auth/token/
  - module: datasurface.yellow.containerd_image
"""

EXAMPLES = r"""
- name: Check the registry credentials before writing registries.yaml
  datasurface.yellow.registry_login:
    registry: "{{ yellow_node_registries[0].endpoint | default('https://' ~ yellow_node_registries[0].host) }}"
    username: "{{ yellow_node_registries[0].username }}"
    password: "{{ yellow_node_registries[0].password }}"
    variable: yellow_node_registries[0].password

- name: Check the image pull secret's credentials and that they may pull the platform image
  datasurface.yellow.registry_login:
    registry: https://index.docker.io/v1/
    username: "{{ vault_yellow_registry_username }}"
    password: "{{ vault_yellow_registry_token }}"
    image: "datasurface/datasurface:{{ yellow_datasurface_image_tag }}"
    variable: vault_yellow_registry_token
"""

RETURN = r"""
registry:
  description: The registry API base URL that was asked.
  returned: always
  type: str
  sample: https://registry-1.docker.io
auth_scheme:
  description: How the registry asked for authentication on C(/v2/), C(none), C(basic) or C(bearer); null when it could not be reached.
  returned: always
  type: str
  sample: bearer
authenticated:
  description: Whether the registry accepted the credentials on an authenticated request (false when none were given or the registry is open).
  returned: always
  type: bool
digest:
  description: The digest the registry serves for O(image), when O(image) is given and the check succeeded.
  returned: always
  type: str
  sample: sha256:1c446383412971872f308d32b24e215482af180e8a545e70e494ad7a200a9426
failure_kind:
  description: On failure, C(auth) (credentials refused or missing), C(not_found) (O(image) does not exist), C(tls), C(unreachable) or C(error).
  returned: failure
  type: str
  sample: auth
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.datasurface.yellow.plugins.module_utils.registry_client import (
    RegistryError, check_credentials, registry_api_url)

ARGUMENT_SPEC = dict(
    registry=dict(type="str", required=True),
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    image=dict(type="str"),
    variable=dict(type="str", default="password"),
    ca_file=dict(type="path"),
    skip_verify=dict(type="bool", default=False),
    timeout=dict(type="int", default=30),
)
# RegistryError kinds as the module reports them.
FAILURE_KINDS = {"auth": "auth", "not_found": "not_found", "tls": "tls", "unreachable": "unreachable"}


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        required_together=[("username", "password")],
        supports_check_mode=True,
    )
    params = module.params
    variable = params["variable"]
    result = dict(changed=False, registry=None, auth_scheme=None, authenticated=False, digest=None)
    if params["timeout"] < 1:
        module.fail_json(msg="timeout: must be at least 1 (seconds)", failure_kind="error", **result)
    if params["username"] is not None and (not params["username"] or not params["password"]):
        module.fail_json(msg="%s: username and password must both be non-empty" % variable, failure_kind="error", **result)
    try:
        result["registry"] = registry_api_url(params["registry"])
    except ValueError as exc:
        module.fail_json(msg="%s: the registry to check %s" % (variable, exc), failure_kind="error", **result)
    try:
        result.update(check_credentials(
            result["registry"], username=params["username"], password=params["password"], image=params["image"],
            ca_file=params["ca_file"], insecure=params["skip_verify"], timeout=float(params["timeout"]),
        ))
    except RegistryError as exc:
        who = ("user %r at " % params["username"]) if params["username"] else "anonymous access to "
        module.fail_json(
            msg="%s: %s%s: %s" % (variable, who, result["registry"], exc),
            failure_kind=FAILURE_KINDS.get(exc.kind, "error"),
            **result
        )
    if params["username"] and not result["authenticated"]:
        module.warn("%s: %s answers without credentials, so they cannot be checked there" % (variable, result["registry"]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Make an image present in containerd (the logic behind the containerd_image module).

Flow: look the image up in the namespace; decide whether a pull is needed (absent; digest
reference with another digest; tag with ``refresh`` whose registry digest moved); pull with
retries (exponential backoff with jitter) inside one overall deadline; optionally pin it so the
kubelet's image garbage collection keeps it. Failures carry a kind: auth, not_found, tls,
unreachable, timeout or error.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import time

from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import parse_reference
from ansible_collections.datasurface.yellow.plugins.module_utils.registry_client import RegistryClient, RegistryError
from ansible_collections.datasurface.yellow.plugins.module_utils.secret_pty import (
    CommandTimeout,
    run_plain,
    run_with_password,
    scrub,
)

PIN_LABEL = "io.cri-containerd.pinned"
K3S_SOCKET = "/run/k3s/containerd/containerd.sock"
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
_LIST_LINE = re.compile(
    r"^(?P<ref>\S+)\s+(?P<type>\S+)\s+(?P<digest>sha256:[0-9a-f]{64})\s+(?P<size>\S+\s\S+)\s+(?P<platforms>\S+)\s+(?P<labels>\S+)\s*$"
)
_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4}
_FAILURE_PATTERNS = (
    ("auth", ("401 unauthorized", "403 forbidden", "unauthorized", "authentication required", "access denied", "denied:")),
    ("not_found", ("not found", "manifest unknown", "name unknown")),
    ("tls", ("x509:", "tls:", "http response to https client", "certificate")),
    (
        "unreachable",
        ("connection refused", "no such host", "i/o timeout", "dial tcp", "connection reset", "no route to host",
         "network is unreachable", "unexpected eof", "502 bad gateway", "503 service unavailable", "504 gateway"),
    ),
)
RETRYABLE = frozenset({"unreachable", "error"})


class PullFailure(Exception):
    """The image could not be made present; ``kind`` says why."""

    def __init__(self, kind, message, attempts=0):
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts


def classify(output):
    """The failure kind a ctr/crictl error output indicates."""
    lowered = output.lower()
    for kind, needles in _FAILURE_PATTERNS:
        if any(needle in lowered for needle in needles):
            return kind
    return "error"


def last_line(output, limit=400):
    """The last non-empty output line (ctr prints its error last), shortened."""
    lines = [line.strip() for line in output.replace("\r", "\n").splitlines() if line.strip()]
    return (lines[-1] if lines else "no output")[:limit]


def size_to_bytes(text):
    """'84.9 MiB' -> bytes (approximate, as ctr rounds)."""
    number, _sep, unit = text.partition(" ")
    try:
        return int(float(number) * _UNITS.get(unit, 1))
    except ValueError:
        return None


def parse_image_list(output):
    """Rows of ``ctr images ls`` as dicts (ref, digest, size, size_bytes, platforms, labels)."""
    rows = []
    for line in output.splitlines()[1:]:
        match = _LIST_LINE.match(line.strip())
        if not match:
            continue
        labels = {}
        if match.group("labels") != "-":
            for pair in match.group("labels").split(","):
                key, _sep, value = pair.partition("=")
                labels[key] = value
        rows.append(
            {
                "ref": match.group("ref"),
                "digest": match.group("digest"),
                "size": match.group("size"),
                "size_bytes": size_to_bytes(match.group("size")),
                "platforms": match.group("platforms").split(","),
                "labels": labels,
            }
        )
    return rows


def backoff_delays(base, cap, rng=random.random):
    """Exponential backoff with +-50% jitter: base, 2*base, 4*base ... capped at ``cap``."""
    attempt = 0
    while True:
        delay = min(cap, base * (2 ** attempt))
        yield delay * (0.5 + rng())
        attempt += 1


class Containerd:
    """Runs ctr/crictl against one containerd."""

    def __init__(self, namespace="k8s.io", address=None, tool="auto", which=shutil.which, exists=os.path.exists,
                 plain=run_plain, with_password=run_with_password):
        self.namespace = namespace
        self.address = address
        self._which = which
        self._exists = exists
        self._plain = plain
        self._with_password = with_password
        self.k3s = address is None and exists(K3S_SOCKET) and which("k3s") is not None
        self.requested_tool = tool

    def ctr(self):
        """The ctr command prefix (k3s's bundled ctr on K3s nodes)."""
        if self.k3s:
            base = ["k3s", "ctr"]
        elif self._which("ctr"):
            base = ["ctr"]
            if self.address:
                base += ["--address", self.address]
        else:
            raise PullFailure("error", "neither ctr nor k3s is installed on this node")
        return base + ["--namespace", self.namespace]

    def crictl(self):
        """The crictl command prefix, or None when no crictl is available."""
        if self.k3s:
            return ["k3s", "crictl"]
        if self._which("crictl"):
            socket = self.address or CONTAINERD_SOCKET
            return ["crictl", "--runtime-endpoint", "unix://" + socket]
        return None

    def pull_tool(self, has_credentials):
        """ctr or crictl, as requested or chosen automatically.

        auto: crictl (it honours the CRI registry configuration such as K3s's registries.yaml)
        when it exists, the namespace is k8s.io and no credentials are given; ctr otherwise.
        """
        if self.requested_tool == "crictl":
            if has_credentials:
                raise PullFailure(
                    "error",
                    "tool=crictl cannot take credentials without exposing them on its command line; use tool=ctr, "
                    "or configure the registry's auth for the CRI (registries.yaml on K3s) and omit the credentials",
                )
            if self.crictl() is None:
                raise PullFailure("error", "tool=crictl requested but crictl is not installed")
            return "crictl"
        if self.requested_tool == "ctr":
            return "ctr"
        if not has_credentials and self.namespace == "k8s.io" and self.crictl() is not None:
            return "crictl"
        return "ctr"

    def find(self, name, timeout):
        """The ``ctr images ls`` row for ``name``, or None."""
        rc, output = self._plain(self.ctr() + ["images", "ls", "name==" + name], timeout)
        if rc != 0:
            raise PullFailure("error", "cannot list images: %s" % last_line(output))
        for row in parse_image_list(output):
            if row["ref"] == name:
                return row
        return None

    def pull_command(self, tool, name, username, plain_http, skip_verify, platform, ca_file=None):
        if tool == "crictl":
            return self.crictl() + ["pull", name]
        argv = self.ctr() + ["images", "pull"]
        if plain_http:
            argv.append("--plain-http")
        if skip_verify:
            argv.append("--skip-verify")
        if ca_file:
            argv += ["--tlscacert", ca_file]
        if platform:
            argv += ["--platform", platform]
        if username:
            argv += ["--user", username]  # no ":password": ctr then asks on its terminal
        return argv + [name]

    def pull_once(self, tool, name, username, password, plain_http, skip_verify, platform, timeout, ca_file=None):
        """One pull; returns (rc, output without the password)."""
        argv = self.pull_command(tool, name, username, plain_http, skip_verify, platform, ca_file)
        if username and tool == "ctr":
            return self._with_password(argv, password or "", timeout)
        rc, output = self._plain(argv, timeout)
        return rc, scrub(output, password)

    def label(self, name, key, value, timeout):
        rc, output = self._plain(self.ctr() + ["images", "label", name, "%s=%s" % (key, value)], timeout)
        if rc != 0:
            raise PullFailure("error", "cannot label %s: %s" % (name, last_line(output)))


def registry_base_url(reference, registry_url, plain_http):
    if registry_url:
        return registry_url
    return ("http://" if plain_http else "https://") + reference.api_host


def ensure_image(params, check_mode, containerd=None, registry_factory=RegistryClient, clock=time.monotonic,
                 sleep=time.sleep, rng=random.random):
    """Make ``params['name']`` present; returns the module result (raises PullFailure)."""
    started = clock()
    deadline = started + params["timeout"]
    reference = parse_reference(params["name"])
    name = reference.name
    username, password = params.get("username"), params.get("password")
    containerd = containerd or Containerd(params["namespace"], params.get("address"), params["tool"])
    tool = containerd.pull_tool(bool(username))

    def remaining():
        return max(0.0, deadline - clock())

    before = containerd.find(name, max(remaining(), 1.0))
    result = {"image": name, "tool": tool, "pulled": False, "pull_skipped": False, "attempts": 0,
              "digest_before": before["digest"] if before else None, "registry_digest": None}
    reason = None
    if before is None:
        reason = "absent"
    elif reference.digest:
        reason = None if before["digest"] == reference.digest else "digest differs"
    elif params["refresh"]:
        client = registry_factory(
            registry_base_url(reference, params.get("registry_url"), params["plain_http"]),
            username=username, password=password, ca_file=params.get("ca_file"),
            insecure=params["skip_verify"], timeout=max(1.0, min(30.0, remaining())),
        )
        try:
            result["registry_digest"] = client.manifest_digest(reference.repository, reference.manifest_reference)
        except RegistryError as exc:
            raise PullFailure(exc.kind, "asking the registry for the current digest: %s" % scrub(str(exc), password)) from None
        reason = None if result["registry_digest"] == before["digest"] else "tag moved in the registry"

    result["reason"] = reason or "present"
    changed = False
    if reason is None:
        result["pull_skipped"] = True
    elif check_mode:
        changed = True
    else:
        _pull(containerd, tool, name, params, result, remaining, sleep, rng)
        changed = True

    after = containerd.find(name, max(remaining(), 1.0)) if result["pulled"] else before
    if result["pulled"] and after is None:
        raise PullFailure("error", "the pull of %s exited 0 but containerd (namespace %s) does not list the image"
                          % (name, params["namespace"]), result["attempts"])
    if params["pin"] and (after is None or after["labels"].get(PIN_LABEL) != "pinned"):
        if not check_mode:
            containerd.label(name, PIN_LABEL, "pinned", max(remaining(), 1.0))
            after = containerd.find(name, max(remaining(), 1.0))
        changed = True
    result.update(
        changed=changed,
        digest=after["digest"] if after else None,
        size=after["size"] if after else None,
        size_bytes=after["size_bytes"] if after else None,
        pinned=bool(after and after["labels"].get(PIN_LABEL) == "pinned") or (check_mode and params["pin"]),
        seconds=round(clock() - started, 3),
    )
    return result


def _pull(containerd, tool, name, params, result, remaining, sleep, rng):
    delays = backoff_delays(params["retry_delay"], params["retry_max_delay"], rng)
    last_kind, last_cause = "timeout", "no attempt finished"
    for attempt in range(1, params["retries"] + 2):
        if remaining() <= 0:
            break
        result["attempts"] = attempt
        try:
            rc, output = containerd.pull_once(tool, name, params.get("username"), params.get("password"),
                                              params["plain_http"], params["skip_verify"], params.get("platform"),
                                              remaining(), params.get("ca_file"))
        except CommandTimeout as exc:
            last_kind, last_cause = "timeout", "the pull did not finish within timeout=%ss (%s)" % (
                params["timeout"], last_line(exc.output))
            break
        if rc == 0:
            result["pulled"] = True
            return
        last_kind, last_cause = classify(output), last_line(output)
        if last_kind not in RETRYABLE or attempt > params["retries"]:
            break
        delay = next(delays)
        if delay >= remaining():
            last_cause += " (no time left for another attempt within timeout=%ss)" % params["timeout"]
            break
        sleep(delay)
    raise PullFailure(last_kind, last_cause, result["attempts"])

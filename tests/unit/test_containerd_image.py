# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""containerd_image logic: decisions, retries, failure kinds, secrecy (with a fake containerd)."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.datasurface.yellow.plugins.module_utils.containerd_image import (
    Containerd,
    PullFailure,
    backoff_delays,
    classify,
    ensure_image,
    parse_image_list,
)
from ansible_collections.datasurface.yellow.plugins.module_utils.registry_client import RegistryError
from ansible_collections.datasurface.yellow.plugins.module_utils.secret_pty import CommandTimeout

OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
IMAGE = "reg.example:5000/datasurface/datasurface:latest"
SECRET = "pa55 'w0rd'; $(id)"

LISTING = (
    "REF TYPE DIGEST SIZE PLATFORMS LABELS\n"
    f"{IMAGE} application/vnd.oci.image.manifest.v1+json {OLD} 84.9 MiB linux/amd64 io.cri-containerd.image=managed\n"
    f"sha256:{'3' * 64} application/vnd.oci.image.manifest.v1+json {OLD} 84.9 MiB linux/amd64 -\n"
)


def test_image_list_is_parsed():
    rows = parse_image_list(LISTING)
    assert rows[0] == {
        "ref": IMAGE,
        "digest": OLD,
        "size": "84.9 MiB",
        "size_bytes": int(84.9 * 1024 ** 2),
        "platforms": ["linux/amd64"],
        "labels": {"io.cri-containerd.image": "managed"},
    }
    assert rows[1]["labels"] == {}


@pytest.mark.parametrize(
    "output, kind",
    [
        ('ctr: failed to resolve reference "x": pulling from host x failed with status code [manifests 1]: 401 Unauthorized', "auth"),
        ('ctr: failed to resolve reference "x": x: not found', "not_found"),
        ("dial tcp 10.0.0.1:5000: connect: connection refused", "unreachable"),
        ("http: server gave HTTP response to HTTPS client", "tls"),
        ("x509: certificate signed by unknown authority", "tls"),
        ("something odd", "error"),
    ],
)
def test_failures_are_classified(output, kind):
    assert classify(output) == kind


def test_backoff_doubles_with_jitter_and_a_cap():
    low = list(itertools.islice(backoff_delays(2, 10, rng=lambda: 0.0), 5))
    high = list(itertools.islice(backoff_delays(2, 10, rng=lambda: 1.0), 5))
    assert low == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert high == [3.0, 6.0, 12.0, 15.0, 15.0]


class FakeContainerd:
    """Stands in for ctr: a dict of stored images and a scripted list of pull outcomes."""

    def __init__(self, stored=None, outcomes=()):
        self.stored = dict(stored or {})
        self.outcomes = list(outcomes)
        self.pulls = []
        self.labels = []

    def pull_tool(self, has_credentials):
        return "ctr"

    def find(self, name, timeout):
        if name not in self.stored:
            return None
        digest, labels = self.stored[name]
        return {"ref": name, "digest": digest, "size": "1 MiB", "size_bytes": 1048576, "platforms": [], "labels": dict(labels)}

    def pull_once(self, tool, name, username, password, plain_http, skip_verify, platform, timeout, ca_file=None):
        self.pulls.append((name, username, timeout))
        outcome = self.outcomes.pop(0) if self.outcomes else (0, "done", NEW)
        if isinstance(outcome, CommandTimeout):
            raise outcome  # pylint: disable=raising-bad-type
        rc, output, digest = outcome
        if rc == 0:
            self.stored[name] = (digest, {})
        return rc, output

    def label(self, name, key, value, timeout):
        self.labels.append((name, key, value))
        digest, labels = self.stored[name]
        labels[key] = value


class FakeRegistry:
    digest = NEW
    error: RegistryError | None = None
    calls: list = []

    def __init__(self, base_url, **kwargs):
        FakeRegistry.calls.append((base_url, kwargs))

    def manifest_digest(self, repository, reference):
        if FakeRegistry.error is not None:
            raise FakeRegistry.error  # pylint: disable=raising-bad-type
        return FakeRegistry.digest


def params(**overrides):
    base = dict(name=IMAGE, namespace="k8s.io", address=None, tool="auto", username="dt", password=SECRET,
                plain_http=False, skip_verify=False, ca_file=None, registry_url=None, refresh=False, platform=None,
                pin=False, timeout=60, retries=3, retry_delay=1.0, retry_max_delay=5.0)
    base.update(overrides)
    return base


class Clock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def run(p, containerd, check_mode=False, clock=None):
    FakeRegistry.calls = []
    clock = clock or Clock()
    return ensure_image(p, check_mode, containerd=containerd, registry_factory=FakeRegistry, clock=clock,
                        sleep=clock.sleep, rng=lambda: 0.5)


def test_absent_image_is_pulled():
    fake = FakeContainerd()
    result = run(params(), fake)
    assert result["changed"] and result["pulled"] and result["reason"] == "absent"
    assert result["digest"] == NEW and result["digest_before"] is None and result["attempts"] == 1


def test_a_pull_that_leaves_no_image_is_a_failure():
    class Forgetful(FakeContainerd):
        def pull_once(self, *args, **kwargs):
            rc, output = super().pull_once(*args, **kwargs)
            self.stored.clear()
            return rc, output

    with pytest.raises(PullFailure) as failure:
        run(params(), Forgetful())
    assert failure.value.kind == "error" and "does not list the image" in str(failure.value)


def test_present_tag_is_not_pulled_or_looked_up_without_refresh():
    fake = FakeContainerd({IMAGE: (OLD, {})})
    result = run(params(), fake)
    assert not result["changed"] and result["pull_skipped"] and fake.pulls == [] and FakeRegistry.calls == []


def test_refresh_pulls_only_when_the_tag_moved():
    fake = FakeContainerd({IMAGE: (OLD, {})})
    FakeRegistry.digest, FakeRegistry.error = NEW, None
    moved = run(params(refresh=True), fake)
    assert moved["pulled"] and moved["reason"] == "tag moved in the registry" and moved["registry_digest"] == NEW
    again = run(params(refresh=True), fake)
    assert not again["changed"] and again["digest"] == NEW and len(fake.pulls) == 1


def test_refresh_in_check_mode_reports_without_pulling():
    fake = FakeContainerd({IMAGE: (OLD, {})})
    FakeRegistry.digest, FakeRegistry.error = NEW, None
    result = run(params(refresh=True), fake, check_mode=True)
    assert result["changed"] and not result["pulled"] and fake.pulls == []


def test_registry_lookup_for_plain_http_and_mirror_urls():
    fake = FakeContainerd({IMAGE: (OLD, {})})
    run(params(refresh=True, plain_http=True), fake)
    assert FakeRegistry.calls[0][0] == "http://reg.example:5000"
    run(params(refresh=True, registry_url="https://mirror.example"), fake)
    assert FakeRegistry.calls[0][0] == "https://mirror.example"


def test_registry_lookup_failure_names_the_kind_without_the_secret():
    fake = FakeContainerd({IMAGE: (OLD, {})})
    FakeRegistry.error = RegistryError("auth", "refused " + SECRET)
    try:
        with pytest.raises(PullFailure) as caught:
            run(params(refresh=True), fake)
    finally:
        FakeRegistry.error = None
    assert caught.value.kind == "auth" and SECRET not in str(caught.value)


def test_digest_reference_compares_digests():
    pinned = "reg.example:5000/datasurface/datasurface@" + NEW
    fake = FakeContainerd({pinned: (NEW, {})})
    assert run(params(name=pinned), fake)["pull_skipped"]
    fake = FakeContainerd({pinned: (OLD, {})})
    assert run(params(name=pinned), fake)["reason"] == "digest differs"


def test_unreachable_is_retried_with_backoff_then_succeeds():
    refused = (1, "dial tcp 10.0.0.1:5000: connect: connection refused", None)
    fake = FakeContainerd(outcomes=[refused, refused, (0, "done", NEW)])
    clock = Clock()
    result = run(params(), fake, clock=clock)
    assert result["pulled"] and result["attempts"] == 3
    assert clock.slept == [1.0, 2.0]


def test_auth_failure_is_not_retried():
    fake = FakeContainerd(outcomes=[(1, "401 Unauthorized", None)])
    with pytest.raises(PullFailure) as caught:
        run(params(), fake)
    assert caught.value.kind == "auth" and caught.value.attempts == 1 and len(fake.pulls) == 1


def test_not_found_is_not_retried():
    fake = FakeContainerd(outcomes=[(1, 'ctr: failed to resolve reference "x": x: not found', None)])
    with pytest.raises(PullFailure) as caught:
        run(params(), fake)
    assert caught.value.kind == "not_found" and len(fake.pulls) == 1


def test_retries_stop_at_the_overall_timeout():
    refused = (1, "connection refused", None)
    fake = FakeContainerd(outcomes=[refused] * 10)
    clock = Clock()
    with pytest.raises(PullFailure) as caught:
        run(params(timeout=5, retries=10, retry_delay=2.0, retry_max_delay=30.0), fake, clock=clock)
    assert caught.value.kind == "unreachable"
    assert "no time left" in str(caught.value)
    assert clock.now <= 5


def test_a_hung_pull_is_a_timeout():
    fake = FakeContainerd(outcomes=[CommandTimeout("copying layer 3/7")])
    with pytest.raises(PullFailure) as caught:
        run(params(timeout=30), fake)
    assert caught.value.kind == "timeout" and "within timeout=30s" in str(caught.value)


def test_pin_label_is_added_once():
    fake = FakeContainerd({IMAGE: (OLD, {})})
    first = run(params(pin=True), fake)
    second = run(params(pin=True), fake)
    assert first["changed"] and first["pinned"] and not second["changed"] and len(fake.labels) == 1


def test_ctr_commands_never_carry_the_password():
    containerd = Containerd(which=lambda tool: "/usr/bin/" + tool, exists=lambda path: False)
    argv = containerd.pull_command("ctr", IMAGE, "dt", True, False, "linux/amd64", "/etc/ca.pem")
    assert argv == ["ctr", "--namespace", "k8s.io", "images", "pull", "--plain-http", "--tlscacert", "/etc/ca.pem",
                    "--platform", "linux/amd64", "--user", "dt", IMAGE]
    assert not any(SECRET in arg for arg in argv)


def test_password_goes_to_the_pty_and_is_scrubbed_from_output():
    seen = {}

    def with_password(argv, password, timeout):
        seen["argv"], seen["password"] = argv, password
        return 1, "Password: " + password + "\n401 Unauthorized"

    containerd = Containerd(which=lambda tool: "/usr/bin/" + tool, exists=lambda path: False, with_password=with_password)
    rc, output = containerd.pull_once("ctr", IMAGE, "dt", SECRET, False, False, None, 10)
    assert seen["password"] == SECRET and SECRET not in " ".join(seen["argv"])
    assert rc == 1


def test_k3s_nodes_use_the_bundled_tools():
    containerd = Containerd(which=lambda tool: "/usr/local/bin/k3s" if tool == "k3s" else None, exists=lambda path: True)
    assert containerd.ctr()[:2] == ["k3s", "ctr"]
    assert containerd.pull_tool(has_credentials=False) == "crictl"
    assert containerd.pull_tool(has_credentials=True) == "ctr"
    assert containerd.pull_command("crictl", IMAGE, None, False, False, None) == ["k3s", "crictl", "pull", IMAGE]


def test_crictl_with_credentials_is_refused():
    containerd = Containerd(tool="crictl", which=lambda tool: "/usr/bin/" + tool, exists=lambda path: False)
    with pytest.raises(PullFailure) as caught:
        containerd.pull_tool(has_credentials=True)
    assert "registries.yaml" in str(caught.value)

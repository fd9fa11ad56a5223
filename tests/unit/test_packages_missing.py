# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""packages_missing: the wanted packages no "<name> installed" line of a dpkg-query or rpm query names. The real dpkg
answers it in the node_prep and postgres_host molecule scenarios and the lab (a second run installs nothing)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datasurface.yellow.plugins.filter.packages import packages_missing


def test_dpkg_states_other_than_installed_and_unknown_names_are_missing():
    lines = ["nfs-common installed", "open-iscsi config-files", "curl not-installed", "jq half-installed"]
    # dpkg prints nothing for a name it never heard of (and exits 1), nor for a version pin.
    assert packages_missing(["nfs-common", "open-iscsi", "curl", "jq", "never-heard", "nfs-common=1:2.6.2-4"], lines) == [
        "open-iscsi", "curl", "jq", "never-heard", "nfs-common=1:2.6.2-4"]


def test_rpm_lines():
    lines = ["nfs-utils installed", "package iscsi-initiator-utils is not installed"]
    assert packages_missing(["nfs-utils", "iscsi-initiator-utils"], lines) == ["iscsi-initiator-utils"]


def test_all_installed_is_empty():
    assert packages_missing(["a", "b"], ["b installed", "a installed"]) == []


@pytest.mark.parametrize("wanted, lines, message", [
    ("nfs-common", [], "the packages must be a list"),
    ([], "nfs-common installed", "the query's lines must be a list"),
])
def test_bad_input_is_one_clear_error(wanted, lines, message):
    with pytest.raises(AnsibleFilterError, match=message):
        packages_missing(wanted, lines)

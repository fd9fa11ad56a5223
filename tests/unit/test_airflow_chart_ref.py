# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""yellow_airflow_chart_ref: a repository chart, or a local chart directory / .tgz that must exist (validation.py)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from ansible_collections.datasurface.yellow.plugins.plugin_utils import validation

ROOT = Path(__file__).resolve().parents[2]


def problems(ref, version="1.19.0"):
    return list(validation.airflow_problems({"yellow_airflow_chart_ref": ref, "yellow_airflow_chart_version": version}))


def package(tmp_path, chart_yaml, name="airflow-1.19.0.tgz", member="airflow/Chart.yaml"):
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as archive:
        data = chart_yaml.encode()
        info = tarfile.TarInfo(member)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("ref", ["apache-airflow/airflow", "mirror/airflow"])
def test_a_repository_chart_is_accepted(ref):
    assert problems(ref) == []


def test_the_stand_in_chart_directory_and_its_package_are_accepted(tmp_path):
    assert problems(str(ROOT / "tests" / "charts" / "airflow")) == []
    assert problems(str(package(tmp_path, "apiVersion: v2\nname: airflow\nversion: 1.19.0\n"))) == []


@pytest.mark.parametrize("ref, fragment", [
    ("/nonexistent/chart", "yellow_airflow_chart_ref: /nonexistent/chart does not exist on the control node"),
    ("../nope-1.19.0.tgz", "yellow_airflow_chart_ref: ../nope-1.19.0.tgz does not exist on the control node"),
    ("airflow", "yellow_airflow_chart_ref: 'airflow' is neither `<repository>/<chart>` nor a path"),
    ("", "yellow_airflow_chart_ref: must be set"),
])
def test_a_missing_or_malformed_reference_is_named(ref, fragment):
    found = problems(ref)
    assert len(found) == 1 and found[0].startswith(fragment), found


def test_a_chart_of_another_name_or_version_is_refused(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "Chart.yaml").write_text("apiVersion: v2\nname: airflow-refused\nversion: 1.19.0\n")
    assert problems(str(other)) == [f"yellow_airflow_chart_ref: {other} holds the chart 'airflow-refused', not 'airflow'"]
    assert problems(str(ROOT / "tests" / "charts" / "airflow"), version="1.18.0") == [
        f"yellow_airflow_chart_ref: {ROOT / 'tests' / 'charts' / 'airflow'} holds airflow chart 1.19.0, but yellow_airflow_chart_version "
        "is 1.18.0 (the values are validated against that version's schema)"]
    assert problems(str(ROOT / "tests" / "charts")) == [
        f"yellow_airflow_chart_ref: {ROOT / 'tests' / 'charts'} has no Chart.yaml (not a Helm chart directory)"]
    bad = package(tmp_path, "x", member="Chart.yaml")
    assert problems(str(bad)) == [f"yellow_airflow_chart_ref: {bad} is a .tgz without <chart>/Chart.yaml (not a packaged Helm chart)"]
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(b"not gzip")
    assert problems(str(broken))[0].startswith(f"yellow_airflow_chart_ref: {broken} cannot be read as a Helm chart:")

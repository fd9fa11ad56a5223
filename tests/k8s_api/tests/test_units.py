# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Selectors and patch algorithms on their own."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from ..patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from ..selectors import Selector, parse_field_selector, parse_label_selector


def _obj(labels: Dict[str, str], **fields: Any) -> Dict[str, Any]:
    return {"metadata": {"name": "n", "namespace": "ns", "labels": labels}, **fields}


@pytest.mark.parametrize("selector, labels, expected", [
    ("a=b", {"a": "b"}, True),
    ("a==b", {"a": "c"}, False),
    ("a!=b", {}, True),
    ("a!=b", {"a": "b"}, False),
    ("a in (x, y)", {"a": "y"}, True),
    ("a in (x,y)", {}, False),
    ("a notin (x)", {}, True),
    ("a notin (x)", {"a": "x"}, False),
    ("a", {"a": ""}, True),
    ("!a", {"a": ""}, False),
    ("app.kubernetes.io/name=db,tier in (data),!skip", {"app.kubernetes.io/name": "db", "tier": "data"}, True),
    ("", {"a": "b"}, True),
])
def test_label_selectors(selector: str, labels: Dict[str, str], expected: bool) -> None:
    assert Selector.parse(selector, None).matches(_obj(labels)) is expected


@pytest.mark.parametrize("bad", ["a in (x", "a=b=c", "a,,b", "in (x)", "a=b c"])
def test_bad_label_selectors(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_label_selector(bad)


def test_field_selectors() -> None:
    obj = _obj({}, status={"phase": "Running"}, spec={"nodeName": None, "flag": True})
    assert Selector.parse(None, "metadata.name=n,metadata.namespace==ns,status.phase!=Pending").matches(obj)
    assert Selector.parse(None, "spec.nodeName=").matches(obj)
    assert Selector.parse(None, "spec.flag=true").matches(obj)
    assert not Selector.parse(None, "status.phase=Pending").matches(obj)
    assert parse_field_selector(r"metadata.name=a\,b")[0].value == "a,b"
    with pytest.raises(ValueError):
        parse_field_selector("nonsense")


def test_merge_patch_rfc7386_examples() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"a": "foo"}, "bar") == "bar"
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}  # inputs are not modified


def test_strategic_merge_patch() -> None:
    pod: Dict[str, Any] = {"metadata": {"finalizers": ["a"]}, "spec": {
        "containers": [{"name": "app", "image": "x:1", "ports": [{"containerPort": 80}],
                        "volumeMounts": [{"name": "v", "mountPath": "/data"}]},
                       {"name": "side", "image": "s"}],
        "tolerations": [{"key": "a"}], "volumes": [{"name": "v", "emptyDir": {}}]}}
    patched = strategic_merge_patch(pod, {
        "metadata": {"finalizers": ["b"]},
        "spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
            "containers": [{"name": "app", "image": "x:2", "ports": [{"containerPort": 443}],
                            "volumeMounts": [{"name": "v", "mountPath": "/data", "readOnly": True}]},
                           {"name": "side", "$patch": "delete"}],
            "tolerations": [{"key": "b"}],
            "volumes": [{"name": "w", "secret": {"secretName": "s"}}],
        }})
    spec = patched["spec"]
    assert patched["metadata"]["finalizers"] == ["a", "b"]
    assert [c["name"] for c in spec["containers"]] == ["app"]
    assert spec["containers"][0]["image"] == "x:2"
    assert spec["containers"][0]["ports"] == [{"containerPort": 80}, {"containerPort": 443}]
    assert spec["containers"][0]["volumeMounts"] == [{"name": "v", "mountPath": "/data", "readOnly": True}]
    assert spec["tolerations"] == [{"key": "b"}]
    assert [v["name"] for v in spec["volumes"]] == ["v", "w"]
    replaced = strategic_merge_patch(pod, {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "o"}]}})
    assert replaced["spec"]["containers"] == [{"name": "only", "image": "o"}]
    retained = strategic_merge_patch({"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}},
                                     {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}})
    assert retained == {"strategy": {"type": "Recreate"}}
    removed = strategic_merge_patch({"metadata": {"finalizers": ["a", "b"]}}, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert removed == {"metadata": {"finalizers": ["b"]}}


def test_json_patch_rfc6902() -> None:
    doc = {"foo": ["bar", "baz"], "a~b": 1, "c/d": 2}
    ops: List[Dict[str, Any]] = [
        {"op": "add", "path": "/foo/1", "value": "qux"},
        {"op": "add", "path": "/foo/-", "value": "end"},
        {"op": "remove", "path": "/a~0b"},
        {"op": "replace", "path": "/c~1d", "value": 3},
        {"op": "copy", "from": "/foo/0", "path": "/first"},
        {"op": "move", "from": "/first", "path": "/moved"},
        {"op": "test", "path": "/moved", "value": "bar"},
    ]
    assert json_patch(doc, ops) == {"foo": ["bar", "qux", "baz", "end"], "c/d": 3, "moved": "bar"}
    assert doc == {"foo": ["bar", "baz"], "a~b": 1, "c/d": 2}
    for bad in ([{"op": "test", "path": "/foo/0", "value": "nope"}], [{"op": "remove", "path": "/missing"}],
                [{"op": "replace", "path": "/missing", "value": 1}], [{"op": "frob", "path": "/foo"}], {"op": "add"}):
        with pytest.raises(PatchError):
            json_patch(doc, bad)

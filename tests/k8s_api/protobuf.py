# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Decode the few Kubernetes protobuf request bodies that client-go tools send (helm's release storage).

client-go clientsets configured for protobuf (helm 3's Secret/ConfigMap release drivers) POST and PUT their
objects as ``application/vnd.kubernetes.protobuf``: the ``k8s\\x00`` magic, then a ``runtime.Unknown`` whose
``raw`` field is the object message. This module turns such a body into the JSON-shaped dict the store works on,
for the message types in ``SCHEMAS`` (Secret, ConfigMap, Namespace, DeleteOptions and the ObjectMeta they
embed; field numbers from the upstream generated.proto files). Zero values are dropped, as Go's ``omitempty``
would. Anything else raises ``ValueError`` (the server answers 415). Responses are always JSON: these clients
accept it.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple, Union

MAGIC = b"k8s\x00"

# A field is (json name, type); type is a scalar name, "map:<scalar>", "list:<type>" or a nested schema name.
Schema = Dict[int, Tuple[str, str]]
SCHEMAS: Dict[str, Schema] = {
    "Unknown": {1: ("typeMeta", "TypeMeta"), 2: ("raw", "raw"), 3: ("contentEncoding", "string"), 4: ("contentType", "string")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "Time": {1: ("seconds", "int"), 2: ("nanos", "int")},
    "ObjectMeta": {
        1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"), 4: ("selfLink", "string"),
        5: ("uid", "string"), 6: ("resourceVersion", "string"), 7: ("generation", "int"),
        8: ("creationTimestamp", "Time"), 9: ("deletionTimestamp", "Time"), 10: ("deletionGracePeriodSeconds", "int"),
        11: ("labels", "map:string"), 12: ("annotations", "map:string"), 13: ("ownerReferences", "list:OwnerReference"),
        14: ("finalizers", "list:string"),
    },
    "OwnerReference": {
        1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"), 5: ("apiVersion", "string"),
        6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool"),
    },
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:bytes"), 3: ("type", "string"), 4: ("stringData", "map:string"),
               5: ("immutable", "bool")},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", "map:string"), 3: ("binaryData", "map:bytes"), 4: ("immutable", "bool")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec"), 3: ("status", "NamespaceStatus")},
    "NamespaceSpec": {1: ("finalizers", "list:string")},
    "NamespaceStatus": {1: ("phase", "string")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int"), 2: ("preconditions", "Preconditions"), 3: ("orphanDependents", "bool"),
                      4: ("propagationPolicy", "string"), 5: ("dryRun", "list:string")},
    "Preconditions": {1: ("uid", "string"), 2: ("resourceVersion", "string")},
}


def _varint(data: bytes, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> List[Tuple[int, Union[int, bytes]]]:
    out: List[Tuple[int, Union[int, bytes]]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            out.append((number, data[pos:pos + length]))
            pos += length
        elif wire == 1:
            out.append((number, int.from_bytes(data[pos:pos + 8], "little")))
            pos += 8
        elif wire == 5:
            out.append((number, int.from_bytes(data[pos:pos + 4], "little")))
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
    return out


def _scalar(kind: str, value: Union[int, bytes]) -> Any:
    if kind == "string":
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)
    if kind == "bytes":
        return base64.b64encode(value if isinstance(value, bytes) else b"").decode("ascii")
    if kind == "raw":
        return value
    if kind == "int":
        number = int(value) if isinstance(value, int) else 0
        return number - (1 << 64) if number >= 1 << 63 else number
    if kind == "bool":
        return bool(value)
    return decode_message(kind, value if isinstance(value, bytes) else b"")


def _is_zero(value: Any) -> bool:
    return value is None or value == "" or value == 0 and not isinstance(value, bool) or value == {} or value == []


def decode_message(schema_name: str, data: bytes) -> Any:
    schema = SCHEMAS[schema_name]
    out: Dict[str, Any] = {}
    for number, value in _fields(data):
        if number not in schema:
            continue
        name, kind = schema[number]
        if kind.startswith("map:"):
            entry = dict(_fields(value if isinstance(value, bytes) else b""))
            key = _scalar("string", entry.get(1, b""))
            out.setdefault(name, {})[key] = _scalar(kind[4:], entry.get(2, b""))
        elif kind.startswith("list:"):
            out.setdefault(name, []).append(_scalar(kind[5:], value))
        else:
            out[name] = _scalar(kind, value)
    if schema_name == "Time":
        seconds = out.get("seconds", 0)
        if seconds <= 0:
            return None
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {k: v for k, v in out.items() if not _is_zero(v) or isinstance(v, bool)}


def decode(body: bytes) -> Dict[str, Any]:
    """A ``k8s\\x00``-framed protobuf body -> the object as a JSON-shaped dict (with apiVersion and kind)."""
    if not body.startswith(MAGIC):
        raise ValueError("protobuf body without the k8s magic prefix")
    unknown = decode_message("Unknown", body[len(MAGIC):])
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    if kind not in SCHEMAS or kind in ("Unknown", "TypeMeta", "Time"):
        raise ValueError(f"cannot decode protobuf for kind {kind!r}")
    obj = decode_message(kind, unknown.get("raw") or b"")
    if kind != "DeleteOptions" or type_meta.get("apiVersion"):
        obj = {"apiVersion": type_meta.get("apiVersion", ""), "kind": kind, **obj}
    return obj

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The PATCH flavours of the Kubernetes API, on plain JSON values (dicts, lists, scalars).

* ``merge_patch``: JSON merge patch, RFC 7386 (``application/merge-patch+json``).
* ``strategic_merge_patch``: ``application/strategic-merge-patch+json``. Like a merge patch, except that lists of
  objects with a known merge key (``MERGE_KEYS``: containers/env/volumes/imagePullSecrets by ``name``,
  volumeMounts by ``mountPath``, container ports by ``containerPort``, service ports by ``port``, conditions by
  ``type``, ownerReferences by ``uid``) are merged item by item, ``metadata.finalizers`` is merged as a set, and
  the directives ``$patch: replace|delete``, ``$retainKeys``, ``$deleteFromPrimitiveList/<f>`` and
  ``$setElementOrder/<f>`` (ignored: order is not enforced) are understood. Any other list is replaced.
  The real server decides per field from the Go types; this table covers the fields the project's charts use.
* ``json_patch``: JSON patch, RFC 6902 (add, remove, replace, move, copy, test).

Server-side apply uses ``strategic_merge_patch`` too (see store.py). Errors raise ``PatchError``.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional

MERGE_KEYS: Dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
}
# Lists of scalars merged as sets by a strategic merge patch.
SET_LISTS = frozenset({"finalizers"})

_DIRECTIVE_PREFIXES = ("$setElementOrder/", "$deleteFromPrimitiveList/")


class PatchError(ValueError):
    """The patch cannot be applied (malformed, or a ``test`` op / path precondition failed)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_key(field: str, items: List[Any]) -> Optional[str]:
    if field == "ports":
        if all(isinstance(i, dict) and "containerPort" in i for i in items):
            return "containerPort"
        return "port"
    return MERGE_KEYS.get(field)


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Apply a strategic merge patch (see the module docstring for the supported subset)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    return _smp_map(target if isinstance(target, dict) else {}, patch)


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_directives(v)
            for k, v in value.items()
            if not (k in ("$patch", "$retainKeys") or k.startswith(_DIRECTIVE_PREFIXES))
        }
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def _smp_map(target: Dict[str, Any], patch: Dict[str, Any]) -> Dict[str, Any]:
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip_directives(patch)
    if directive == "delete":
        return {}
    result = copy.deepcopy(target)
    for key, value in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            if value.get("$patch") == "delete":
                result.pop(key, None)
            else:
                current = result.get(key)
                result[key] = _smp_map(current if isinstance(current, dict) else {}, value)
        elif isinstance(value, list):
            result[key] = _smp_list(key, result.get(key), value)
        else:
            result[key] = copy.deepcopy(value)
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _smp_list(field: str, target: Any, patch: List[Any]) -> List[Any]:
    original = target if isinstance(target, list) else []
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip_directives(i) for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
    if field in SET_LISTS and all(not isinstance(i, (dict, list)) for i in patch):
        merged = list(original)
        merged.extend(v for v in patch if v not in merged)
        return merged
    key = _merge_key(field, original + patch)
    if not key or not all(isinstance(i, dict) for i in patch) or not all(isinstance(i, dict) and key in i for i in original):
        return _strip_directives(copy.deepcopy(patch))
    result = copy.deepcopy(original)
    for item in patch:
        if key not in item:
            raise PatchError(f"map in list {field!r} is missing its merge key {key!r}")
        idx = next((n for n, cur in enumerate(result) if cur.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                del result[idx]
            continue
        if idx is None:
            result.append(_smp_map({}, item))
        else:
            result[idx] = _smp_map(result[idx], item)
    return result


# ---- RFC 6902 -----------------------------------------------------------------------------------------


def _pointer(path: str) -> List[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer must start with '/': {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: List[str], path: str) -> Any:
    cur = doc
    for part in parts[:-1]:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise PatchError(f"path {path!r} does not exist")
    return cur


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise PatchError(f"path {path!r} does not exist")


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"index out of range in path {path!r}")
    else:
        raise PatchError(f"path {path!r} does not point into an object or array")
    return doc


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise PatchError(f"path {path!r} does not exist")
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    """Apply an RFC 6902 operation list to a copy of ``doc``."""
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation {op!r}")
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            if path == "":
                doc = copy.deepcopy(op.get("value"))
            else:
                doc = _add(_remove(doc, path), path, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            if "from" not in op:
                raise PatchError(f"{kind} operation needs 'from'")
            value = copy.deepcopy(_get(doc, op["from"]))
            if kind == "move":
                doc = _remove(doc, op["from"])
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise PatchError(f"test operation failed at {path!r}")
        else:
            raise PatchError(f"unknown JSON patch operation {kind!r}")
    return doc

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Label selectors (``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``, ``a``, ``!a``; comma means AND)
and field selectors (``path=value``, ``path==value``, ``path!=value`` on any dotted path, e.g. ``status.phase``).

Both parse into lists of requirements; a ``ValueError`` means the selector is malformed (the server answers 400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Mapping, Optional

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET_RE = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_EQ_RE = re.compile(rf"^({_KEY})\s*(==|!=|=)\s*({_VALUE})$")
_EXISTS_RE = re.compile(rf"^(!?)\s*({_KEY})$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


@dataclass(frozen=True)
class LabelRequirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: FrozenSet[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        # "!=" and "notin" also match objects that lack the label
        return not present or value not in self.values


def _split_terms(selector: str) -> List[str]:
    terms: List[str] = []
    cur: List[str] = []
    depth = 0
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced parentheses in selector {selector!r}")
        if ch == "," and depth == 0:
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise ValueError(f"unbalanced parentheses in selector {selector!r}")
    terms.append("".join(cur))
    return [t.strip() for t in terms]


def parse_label_selector(selector: Optional[str]) -> List[LabelRequirement]:
    if not selector or not selector.strip():
        return []
    reqs = []
    for term in _split_terms(selector):
        if not term:
            raise ValueError(f"empty requirement in label selector {selector!r}")
        m = _SET_RE.match(term)
        if m:
            values = [v.strip() for v in m.group(3).split(",")]
            for v in values:
                if not _VALUE_RE.match(v):
                    raise ValueError(f"invalid label value {v!r} in {selector!r}")
            reqs.append(LabelRequirement(m.group(1), m.group(2), frozenset(values)))
            continue
        m = _EQ_RE.match(term)
        if m:
            op = "=" if m.group(2) in ("=", "==") else "!="
            reqs.append(LabelRequirement(m.group(1), op, frozenset([m.group(3)])))
            continue
        m = _EXISTS_RE.match(term)
        if m:
            reqs.append(LabelRequirement(m.group(2), "!exists" if m.group(1) else "exists"))
            continue
        raise ValueError(f"unable to parse requirement {term!r} in label selector {selector!r}")
    return reqs


def labels_match(reqs: List[LabelRequirement], obj: Mapping[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in reqs)


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    negate: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = _field_string(obj, self.path)
        return (actual != self.value) if self.negate else (actual == self.value)


def _field_string(obj: Mapping[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def _split_unescaped(text: str, sep: str) -> List[str]:
    out, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i:i + 2])
            i += 2
            continue
        if ch == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def parse_field_selector(selector: Optional[str]) -> List[FieldRequirement]:
    if not selector or not selector.strip():
        return []
    reqs = []
    for term in _split_unescaped(selector, ","):
        term = term.strip()
        m = re.match(r"^([A-Za-z0-9_.]+)\s*(==|!=|=)(.*)$", term)
        if not m:
            raise ValueError(f"invalid field selector requirement {term!r}")
        reqs.append(FieldRequirement(m.group(1), m.group(2) == "!=", _unescape(m.group(3).strip())))
    return reqs


def fields_match(reqs: List[FieldRequirement], obj: Mapping[str, Any]) -> bool:
    return all(r.matches(obj) for r in reqs)


@dataclass(frozen=True)
class Selector:
    """A parsed labelSelector plus fieldSelector pair."""

    labels: List[LabelRequirement]
    fields: List[FieldRequirement]

    @staticmethod
    def parse(label_selector: Optional[str], field_selector: Optional[str]) -> "Selector":
        return Selector(parse_label_selector(label_selector), parse_field_selector(field_selector))

    def matches(self, obj: Optional[Dict[str, Any]]) -> bool:
        return obj is not None and labels_match(self.labels, obj) and fields_match(self.fields, obj)

# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""Turn what the verify role collected (pods, Airflow REST API answers, merge-database tables,
Services, the database probe Job) into findings and one report.

Pure functions over plain data (the registered results of ``kubernetes.core.k8s_info``,
``ansible.builtin.uri``, ``community.postgresql.postgresql_query`` and ``datasurface.yellow.k8s_job``),
so every rule is unit-testable without a cluster. A finding is
``{"check": str, "status": "OK"|"FAIL"|"SKIP", "detail": str}``; only FAIL fails the run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Iterable, Optional

OK = "OK"
FAIL = "FAIL"
SKIP = "SKIP"
# How many import errors / missing names a detail line lists before "and N more".
MAX_LISTED = 20


def finding(check: str, status: str, detail: str) -> dict[str, str]:
    """One finding."""
    return {"check": check, "status": status, "detail": detail}


def _resources(result: Any) -> list[Mapping[str, Any]]:
    if isinstance(result, Mapping):
        return [r for r in result.get("resources") or [] if isinstance(r, Mapping)]
    return [r for r in result or [] if isinstance(r, Mapping)]


def _listed(items: list[str], limit: int = MAX_LISTED) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _call_failure(result: Any, success_key: str) -> Optional[str]:
    """Why a registered module call failed (None when it did not).

    The role registers with ``failed_when: false``, which clears ``failed``: a call failed when it
    says so or when its result lacks ``success_key`` (``resources``, ``query_result``).
    """
    if not isinstance(result, Mapping) or not result:
        return "not run"
    if result.get("skipped"):
        return "skipped"
    if result.get("failed") or success_key not in result:
        msg = str(result.get("msg") or "failed").strip()
        # postgresql_query repeats the whole query and its arguments before the error: keep the error.
        sql = _SQL_ERROR.match(msg)
        if sql:
            msg = "SQL error: " + sql.group(1).strip()
        lines = msg.splitlines() or ["failed"]
        return lines[0][:300]
    return None


_SQL_ERROR = re.compile(r"^Cannot execute SQL .*?(?:\}|\]|None): (.*?)(?:, query list: .*)?$", re.DOTALL)


# --- pods -------------------------------------------------------------------------------------

def _pod_problem(pod: Mapping[str, Any]) -> str:
    """'<pod> <phase> (<reasons>)' for a pod that is not Ready."""
    metadata = pod.get("metadata") or {}
    status = pod.get("status") or {}
    reasons = []
    for container in list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or []):
        state = container.get("state") or {}
        if state.get("waiting"):
            reasons.append(f"{container.get('name')}: {state['waiting'].get('reason') or 'waiting'}")
        elif state.get("terminated") and state["terminated"].get("reason") not in (None, "Completed"):
            reasons.append(f"{container.get('name')}: {state['terminated'].get('reason')}")
        elif state.get("running") and not container.get("ready"):
            reasons.append(f"{container.get('name')}: running, not ready")
    if not reasons:
        unready = [c for c in status.get("conditions") or [] if c.get("status") != "True" and c.get("reason")]
        reasons = [f"{c.get('type')}: {c.get('reason')}" for c in unready]
    if not reasons and status.get("reason"):
        reasons = [str(status["reason"])]
    text = f"{metadata.get('name', '?')} {status.get('phase') or 'Unknown'}"
    return text + (f" ({'; '.join(reasons)})" if reasons else "")


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_findings(pods: Any, components: Iterable[str]) -> list[dict[str, str]]:
    """One finding per component (pod label ``component``): OK with ``n/m Ready``, or FAIL naming each pod and why."""
    failure = _call_failure(pods, "resources") if isinstance(pods, Mapping) else None
    components = list(components or [])
    if failure and failure != "skipped":
        return [finding(f"pods {c}", FAIL, f"cannot list pods: {failure}") for c in components]
    by_component: dict[str, list[Mapping[str, Any]]] = {}
    for pod in _resources(pods):
        component = ((pod.get("metadata") or {}).get("labels") or {}).get("component")
        if component:
            by_component.setdefault(component, []).append(pod)
    findings = []
    for component in components:
        members = sorted(by_component.get(component, []), key=lambda p: (p.get("metadata") or {}).get("name", ""))
        ready = [p for p in members if _pod_ready(p)]
        if not members:
            findings.append(finding(f"pods {component}", FAIL, "no pod"))
        elif ready:
            findings.append(finding(f"pods {component}", OK, f"{len(ready)}/{len(members)} Ready"))
        else:
            detail = "no Ready pod: " + ", ".join(_pod_problem(p) for p in members)
            findings.append(finding(f"pods {component}", FAIL, detail))
    return findings


# --- Airflow REST API ---------------------------------------------------------------------------

def _http_failure(result: Any, what: str) -> Optional[str]:
    if not isinstance(result, Mapping) or result.get("skipped"):
        return f"{what}: not called"
    status = result.get("status")
    if isinstance(status, int) and 200 <= status < 300:
        return None
    if status in (None, -1):
        return f"{what}: unreachable ({str(result.get('msg') or 'no answer').splitlines()[0][:200]})"
    return f"{what}: HTTP {status}"


def _json(result: Any) -> Mapping[str, Any]:
    data = result.get("json") if isinstance(result, Mapping) else None
    return data if isinstance(data, Mapping) else {}


def _last_line(text: Any) -> str:
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "(no trace)"


def airflow_findings(api: Mapping[str, Any]) -> list[dict[str, str]]:
    """Findings for the Airflow API: auth, health, DAG count / required DAGs, import errors.

    ``api`` holds ``url``, ``token`` (the token call's status only, never the token), ``health``,
    ``dags`` (list of pages: uri results of ``GET /api/v2/dags``), ``import_errors`` (uri result),
    ``expected_dags`` (int or None) and ``required_dags`` (list): as ``datasurface.yellow.airflow_status`` returns
    them, or ``ansible.builtin.uri`` registers them. ``dag_files`` (that module's states of the files pushed in this
    run, with ``waited``) adds the finding ``airflow dag files``.
    """
    url = api.get("url")
    if not url:
        return [finding("airflow api", FAIL, "no API address: set yellow_verify_airflow_url (no cluster_nodes host, or no "
                        "node port in yellow_airflow_api_node_port nor on the api-server Service)")]
    token = api.get("token") or {}
    token_status = token.get("status") if isinstance(token, Mapping) else None
    if token_status != 201 and token_status != 200:
        if token_status in (None, -1):
            why = f"{url} unreachable" + (f" ({token.get('msg')})" if isinstance(token, Mapping) and token.get("msg") else "")
        elif token_status in (401, 403):
            why = f"POST /auth/token refused the credentials (HTTP {token_status})"
        else:
            why = f"POST /auth/token: HTTP {token_status}"
        findings = [finding("airflow api", FAIL, why)]
        health_failure = _http_failure(api.get("health"), "GET /api/v2/monitor/health")
        if not health_failure:
            findings.append(_health_finding(api.get("health")))
        for check in ("airflow dags", "airflow import errors") + (("airflow dag files",) if api.get("dag_files") else ()):
            findings.append(finding(check, FAIL, "not checked: no API token"))
        return findings

    findings = [finding("airflow api", OK, f"{url}: token issued")]
    health_failure = _http_failure(api.get("health"), "GET /api/v2/monitor/health")
    findings.append(finding("airflow health", FAIL, health_failure) if health_failure else _health_finding(api.get("health")))
    findings.append(_dag_finding(api))
    findings.append(_import_error_finding(api.get("import_errors")))
    if api.get("dag_files"):
        findings.append(_dag_files_finding(api))
    return findings


def _dag_files_finding(api: Mapping[str, Any]) -> dict[str, str]:
    """Whether Airflow parsed the DAG files pushed in this run in the pushed version."""
    errors: dict[str, str] = {}
    for error in _json(api.get("import_errors")).get("import_errors") or []:
        if isinstance(error, Mapping):
            errors.setdefault(str(error.get("filename") or "").rsplit("/", 1)[-1], _last_line(error.get("stack_trace")))
    waited = api.get("waited")
    after = f" after {waited} s" if isinstance(waited, int) else ""
    parsed, problems = [], []
    for state in (s for s in api.get("dag_files") or [] if isinstance(s, Mapping)):
        name = str(state.get("name") or state.get("path") or "?")
        if state.get("state") == "parsed":
            parsed.append(f"{name} ({_listed([str(d) for d in state.get('serving') or []])})")
        elif state.get("state") == "import error":
            problems.append(f"{name}: the pushed version does not import: {errors.get(name, '(no trace)')}")
        elif state.get("dags"):
            problems.append(f"{name}: Airflow still serves an older version{after} (DAG(s) {_listed([str(d) for d in state['dags']])})"
                            + (f"; it lists an import error, maybe the old version's: {errors[name]}" if name in errors else ""))
        elif name in errors:
            problems.append(f"{name}: not parsed in the pushed version{after}; it lists an import error, maybe the old "
                            f"version's: {errors[name]}")
        else:
            problems.append(f"{name}: no DAG from it and no import error{after} (git-sync or the dag-processor behind?)")
    if problems:
        return finding("airflow dag files", FAIL, " | ".join(problems))
    return finding("airflow dag files", OK, "pushed version served: " + ", ".join(parsed))


def _health_finding(result: Any) -> dict[str, str]:
    data = _json(result)
    parts, bad = [], []
    for name in sorted(data):
        entry = data[name]
        if not isinstance(entry, Mapping):
            continue
        status = entry.get("status")
        if status is None:  # e.g. no triggerer heartbeat recorded yet: reported, not failed
            parts.append(f"{name} unknown")
            continue
        parts.append(f"{name} {status}")
        if status != "healthy":
            bad.append(f"{name} {status}")
    if not parts:
        return finding("airflow health", FAIL, "GET /api/v2/monitor/health: no component status in the answer")
    if bad:
        return finding("airflow health", FAIL, "unhealthy: " + ", ".join(bad))
    return finding("airflow health", OK, ", ".join(parts))


def _dag_finding(api: Mapping[str, Any]) -> dict[str, str]:
    pages = api.get("dags")
    if isinstance(pages, Mapping):
        pages = [pages.get("results")] if "results" in pages else [pages]
    pages = [p for p in pages or [] if isinstance(p, Mapping)]
    if not pages:
        return finding("airflow dags", FAIL, "GET /api/v2/dags: not called")
    for page in pages:
        failure = _http_failure(page, "GET /api/v2/dags")
        if failure:
            return finding("airflow dags", FAIL, failure)
    total = _json(pages[0]).get("total_entries")
    dags = [d for page in pages for d in _json(page).get("dags") or [] if isinstance(d, Mapping)]
    ids = sorted({str(d.get("dag_id")) for d in dags if d.get("dag_id")})
    total = total if isinstance(total, int) else len(ids)
    paused = sorted(str(d.get("dag_id")) for d in dags if d.get("is_paused"))
    # A DAG still listed from a pushed file that no longer imports is what Airflow parsed before the push: it
    # marks it stale only once the failing parse is [dag_processor] stale_dag_threshold (50 s) newer than the
    # DAG's last good one and its cleanup scan (parsing_cleanup_interval, 60 s) has run. Not there in the pushed
    # version, whichever side of that moment verify looked.
    earlier = sorted({str(d) for s in api.get("dag_files") or [] if isinstance(s, Mapping) and s.get("state") == "import error"
                      for d in s.get("dags") or []} & set(ids))
    current = total - len(earlier)
    problems = []
    expected = api.get("expected_dags")
    if expected is not None and current != int(expected):
        problems.append(f"{current} DAGs, expected {int(expected)}")
    missing = [d for d in api.get("required_dags") or [] if d not in ids or d in earlier]
    if missing:
        problems.append("missing DAG(s): " + _listed(missing))
    detail = f"{total} DAG(s)" + (f" ({len(paused)} paused)" if paused else "")
    if problems:
        listed = _listed(ids) or "none"
        if earlier:
            listed += f"; from before the push, their file not importing now: {_listed(earlier)}"
        return finding("airflow dags", FAIL, "; ".join(problems) + f" [{detail}: {listed}]")
    required = api.get("required_dags") or []
    if required:
        detail += f", required present: {_listed(list(required))}"
    return finding("airflow dags", OK, detail)


def _import_error_finding(result: Any) -> dict[str, str]:
    failure = _http_failure(result, "GET /api/v2/importErrors")
    if failure:
        return finding("airflow import errors", FAIL, failure)
    data = _json(result)
    errors = [e for e in data.get("import_errors") or [] if isinstance(e, Mapping)]
    total = data.get("total_entries")
    total = total if isinstance(total, int) else len(errors)
    if total == 0 and not errors:
        return finding("airflow import errors", OK, "none")
    listed = [f"{e.get('filename') or '?'}: {_last_line(e.get('stack_trace'))}" for e in errors]
    detail = f"{total} import error(s): " + " | ".join(listed[:MAX_LISTED])
    if total > min(len(listed), MAX_LISTED):
        detail += f" | and {total - min(len(listed), MAX_LISTED)} more"
    return finding("airflow import errors", FAIL, detail)


# --- merge database tables -----------------------------------------------------------------------

def like_to_regex(pattern: str) -> "re.Pattern[str]":
    """SQL LIKE (``%`` any run, ``_`` one character, ``\\`` escapes the next one) as an anchored regex."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        else:
            out.append(re.escape(char))
    if escaped:
        out.append(re.escape("\\"))
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def table_matches(expectation: str, tables: Iterable[str]) -> list[str]:
    """Tables an expectation matches: a LIKE pattern when it holds ``%``, else the exact name."""
    tables = list(tables)
    if "%" in expectation:
        regex = like_to_regex(expectation)
        return sorted(t for t in tables if regex.match(t))
    return [expectation] if expectation in tables else []


def _rows(result: Any) -> list[Mapping[str, Any]]:
    if not isinstance(result, Mapping):
        return []
    rows = result.get("query_result")
    return [r for r in rows or [] if isinstance(r, Mapping)]


def table_findings(db: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every expectation must match at least one table; every ingestion table must hold rows.

    ``db`` holds ``database``, ``tables`` (postgresql_query result with rows ``{"name": ...}``),
    ``expected`` (names / LIKE patterns), ``ingestion`` (names) and ``counts`` (postgresql_query
    result with rows ``{"name": ..., "has_rows": bool}``).
    """
    database = db.get("database") or "?"
    failure = _call_failure(db.get("tables"), "query_result")
    expected = [str(e) for e in db.get("expected") or []]
    ingestion = [str(t) for t in db.get("ingestion") or []]
    if failure:
        return [finding("merge tables", FAIL, f"{database}: cannot list tables: {failure}")]
    tables = sorted({str(r.get("name")) for r in _rows(db.get("tables")) if r.get("name")})
    findings = []
    unmatched, matched = [], []
    for expectation in expected:
        hits = table_matches(expectation, tables)
        if hits:
            matched.append(f"{expectation} ({len(hits)})" if "%" in expectation else expectation)
        else:
            unmatched.append(expectation)
    if unmatched:
        findings.append(finding("merge tables", FAIL, f"{database}: no table for {_listed(unmatched)} ({len(tables)} tables present)"))
    else:
        findings.append(finding("merge tables", OK, f"{database}: " + (_listed(matched) if matched else f"{len(tables)} tables, none expected")))
    if ingestion:
        counts_failure = _call_failure(db.get("counts"), "query_result")
        has_rows = {str(r.get("name")): bool(r.get("has_rows")) for r in _rows(db.get("counts"))}
        if counts_failure and counts_failure != "skipped":
            findings.append(finding("ingestion tables", FAIL, f"{database}: cannot count rows: {counts_failure}"))
        else:
            absent = [t for t in ingestion if t not in tables]
            empty = [t for t in ingestion if t in tables and not has_rows.get(t)]
            problems = ([f"missing {_listed(absent)}"] if absent else []) + ([f"empty {_listed(empty)}"] if empty else [])
            if problems:
                findings.append(finding("ingestion tables", FAIL, f"{database}: " + "; ".join(problems)))
            else:
                findings.append(finding("ingestion tables", OK, f"{database}: {_listed(ingestion)} hold rows"))
    return findings


# --- MCP service, database probe -------------------------------------------------------------

def _selects(selector: Any, labels: Any) -> bool:
    """A Service selector (a plain label map) matches these labels; an empty selector selects nothing."""
    if not isinstance(selector, Mapping) or not selector or not isinstance(labels, Mapping):
        return False
    return all(labels.get(key) == value for key, value in selector.items())


def _deployment_state(deployment: Mapping[str, Any]) -> tuple[int, int]:
    """(ready replicas, desired replicas) of a Deployment; desired defaults to 1 as in the API."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    desired = spec.get("replicas")
    desired = 1 if desired is None else int(desired)
    return int(status.get("readyReplicas") or 0), desired


def _ready_endpoints(service: str, slices: Optional[list[Mapping[str, Any]]], endpoints: list[Mapping[str, Any]]) -> int:
    """Ready addresses behind a Service: from its EndpointSlices when those were read, else its Endpoints."""
    if slices is not None:
        count = 0
        for piece in slices:
            if ((piece.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name") != service:
                continue
            for endpoint in piece.get("endpoints") or []:
                ready = (endpoint.get("conditions") or {}).get("ready")
                # The API: an unknown (null) ready condition is to be read as ready.
                if ready is None or ready is True:
                    count += len(endpoint.get("addresses") or [])
        return count
    count = 0
    for item in endpoints:
        if (item.get("metadata") or {}).get("name") == service:
            for subset in item.get("subsets") or []:
                count += len(subset.get("addresses") or [])
    return count


def mcp_findings(mcp: Mapping[str, Any]) -> list[dict[str, str]]:
    """The MCP server: its Service (found by name pattern), the Deployment(s) behind it and their readiness.

    OK only when every Deployment the Service selects (or whose name matches the pattern) has all
    its desired replicas ready and the Service has at least one ready endpoint (EndpointSlices
    ``discovery.k8s.io/v1`` when they could be read, else the ``v1`` Endpoints): a Service alone
    says nothing about whether anything serves.
    """
    if not mcp.get("enabled", True):
        return [finding("mcp service", SKIP, "not checked (yellow_verify_mcp: false)")]
    pattern = mcp.get("pattern") or "-mcp$"
    for key, what in (("services", "services"), ("deployments", "deployments")):
        failure = _call_failure(mcp.get(key), "resources")
        if failure:
            return [finding("mcp service", FAIL, f"cannot list {what}: {failure}")]
    slices_result = mcp.get("endpointslices")
    unread = _call_failure(slices_result, "resources") or (isinstance(slices_result, Mapping) and slices_result.get("api_found") is False)
    slices = None if unread else _resources(slices_result)
    if slices is None:
        failure = _call_failure(mcp.get("endpoints"), "resources")
        if failure:
            return [finding("mcp service", FAIL, f"cannot list EndpointSlices nor Endpoints: {failure}")]
    endpoints = _resources(mcp.get("endpoints"))
    regex = re.compile(pattern)
    found = [s for s in _resources(mcp.get("services")) if regex.search((s.get("metadata") or {}).get("name", ""))]
    if not found:
        return [finding("mcp service", FAIL, f"no Service whose name matches {pattern!r}")]
    deployments = _resources(mcp.get("deployments"))
    parts, problems = [], []
    for service in sorted(found, key=lambda s: s["metadata"]["name"]):
        name = service["metadata"]["name"]
        spec = service.get("spec") or {}
        ports = []
        for port in spec.get("ports") or []:
            text = str(port.get("port"))
            if port.get("nodePort"):
                text += f" (NodePort {port['nodePort']})"
            ports.append(text)
        backing = [d for d in deployments
                   if _selects(spec.get("selector"), (((d.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels"))
                   or regex.search((d.get("metadata") or {}).get("name", ""))]
        states = []
        for deployment in sorted(backing, key=lambda d: d["metadata"]["name"]):
            ready, desired = _deployment_state(deployment)
            state = f"Deployment {deployment['metadata']['name']} {ready}/{desired} ready"
            states.append(state)
            if desired == 0:
                problems.append(f"Deployment {deployment['metadata']['name']} is scaled to 0")
            elif ready < desired:
                problems.append(state)
        if not backing:
            problems.append(f"no Deployment behind Service {name} (selector {spec.get('selector') or {}})")
        ready_endpoints = _ready_endpoints(name, slices, endpoints)
        if ready_endpoints == 0:
            problems.append(f"Service {name} has no ready endpoint")
        parts.append(f"{name} {spec.get('type') or 'ClusterIP'} port {', '.join(ports) or 'none'}; "
                     + ", ".join(states + [f"{ready_endpoints} ready endpoint(s)"]))
    if problems:
        return [finding("mcp service", FAIL, "not serving: " + "; ".join(problems) + " [" + " | ".join(parts) + "]")]
    return [finding("mcp service", OK, " | ".join(parts))]


def probe_findings(probe: Mapping[str, Any]) -> list[dict[str, str]]:
    """The database probe Job run by datasurface.yellow.k8s_job from inside the cluster."""
    if not probe.get("enabled"):
        return []
    result = probe.get("result")
    target = probe.get("target") or "database"
    if not isinstance(result, Mapping) or result.get("skipped"):
        return [finding("db probe", SKIP, "not run (check mode)" if probe.get("check_mode") else "not run")]
    if result.get("result") == "succeeded" and not result.get("failed"):
        return [finding("db probe", OK, f"{target} reachable from the namespace ({result.get('duration', 0):.1f} s)")]
    why = result.get("reason") or result.get("result") or "failed"
    last = ""
    for containers in (result.get("logs") or {}).values():
        for text in (containers or {}).values():
            if str(text).strip():
                last = _last_line(text)
    if not last:
        msg_lines = str(result.get("msg") or "").strip().splitlines()
        last = msg_lines[0][:300] if msg_lines else ""
    detail = f"{target} not reachable from the namespace: {why}" + (f" ({last})" if last else "")
    return [finding("db probe", FAIL, detail)]


# --- the report -----------------------------------------------------------------------------------

def verify_findings(data: Mapping[str, Any]) -> dict[str, Any]:
    """All findings and the report: ``ok``, ``failed`` (check names), ``checks``, ``lines``, ``simulated``..."""
    checks: list[dict[str, str]] = []
    if data.get("pods") is not None:
        checks += pod_findings(data.get("pods"), data.get("components") or [])
    if data.get("airflow") is not None:
        checks += airflow_findings(data["airflow"])
    if data.get("db") is not None:
        checks += table_findings(data["db"])
    if data.get("mcp") is not None:
        checks += mcp_findings(data["mcp"])
    if data.get("probe") is not None:
        checks += probe_findings(data["probe"])
    stand_ins = [str(part) for part in data.get("stand_ins") or []]
    simulated = bool(data.get("simulated")) or bool(stand_ins)
    failed = [c["check"] for c in checks if c["status"] == FAIL]
    namespace = data.get("namespace") or "?"
    lines = []
    if simulated:
        lines.append("SIMULATED: lab run; stand-ins: " + ("; ".join(stand_ins) if stand_ins else "not named"))
    lines += [f"{c['status']:<4} {c['check']}: {c['detail']}" for c in checks]
    summary = f"{len(checks) - len(failed)}/{len(checks)} checks passed" + (f"; FAILED: {', '.join(failed)}" if failed else "")
    lines.append(summary)
    return {
        "namespace": namespace,
        "simulated": simulated,
        "stand_ins": stand_ins,
        "ok": not failed,
        "failed": failed,
        "summary": summary,
        "checks": checks,
        "lines": lines,
    }

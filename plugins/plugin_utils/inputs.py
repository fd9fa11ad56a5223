# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
"""The one input validation layer: a role's argument spec, then the checks a spec cannot express.

``role_input_problems`` is what both the roles (through the ``datasurface.yellow.check_inputs``
action, first task of every entry point) and the preflight phase call. In order:

1. values that cannot be evaluated (an undefined vault variable) are reported once, and left out;
2. a value of ``None`` counts as not set (``default(none)`` of a shared variable), so ``required``
   options of the spec are reported missing, naming the variable;
3. strict shapes the spec's own conversion would blur: a list option given a string (Ansible would
   split ``"a,b"`` on commas, the role's tasks would iterate it character by character), a dict
   option given a string;
4. the argument spec itself (``ArgumentSpecValidator``): types, choices, elements, required;
   booleans are converted with Ansible's boolean rules ("false", "no", "0" are false; anything not
   boolean is an error), numbers with int()/float();
5. the role's own checks (``ROLE_CHECKS``) on the *converted* values, so an opt-in flag given as the
   string "false" is false;
6. checks for every role: durations and Kubernetes quantities named in ``FORMATS``, image
   references, and credentials embedded in any URL of any input;
7. every message is redacted against every secret value of the inputs.

Every message starts with the variable it is about; none repeats a secret's value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import BOOLEANS, boolean

from ansible_collections.datasurface.yellow.plugins.module_utils.image_reference import InvalidReference, parse_reference

REDACTED = "********"
MIN_REDACT_LENGTH = 3
# A marker for a value whose template failed (kept instead of aborting, see preflight.collected_values).
ERROR_MARKER = re.compile(r"^<< error \d+ - (?P<why>.*) >>$", re.DOTALL)
# Option names whose value is a secret even when the spec does not say no_log.
SECRET_NAME = re.compile(r"(password|passwd|token|secret_key)$", re.IGNORECASE)
# A URL with a userinfo part: scheme://user[:password]@host...
URL_WITH_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<userinfo>[^/?#@\s]*)@[^/?#\s]", re.DOTALL)
# The userinfo of a URL inside a message (a check that quotes a bad URL must not quote its token).
URL_USERINFO_ANYWHERE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://[^/?#@\s']*@")
# Go's time.ParseDuration (Helm's --timeout, git-sync's --period): "300ms", "1.5h", "2h45m"; no bare numbers.
GO_DURATION = re.compile(r"^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|ms|s|m|h))+$")
# Kubernetes resource quantities (apimachinery's resource.Quantity).
K8S_QUANTITY = re.compile(r"^[+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$")


# ---- formats that an argument spec cannot express --------------------------------------------


def go_duration_problem(value: Any) -> str | None:
    """Why ``value`` is not a Go duration (as Helm's --timeout reads it), or None."""
    if isinstance(value, str) and GO_DURATION.match(value.strip()) and value.strip() == value:
        return None
    return f"{value!r} is not a duration such as 600s, 20m or 1h30m (a number with a unit: ms, s, m, h)"


def quantity_problem(value: Any) -> str | None:
    """Why ``value`` is not a Kubernetes quantity (10Gi, 500m, 1.5), or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return None
    if isinstance(value, str) and K8S_QUANTITY.match(value):
        return None
    return f"{value!r} is not a Kubernetes quantity such as 10Gi, 512Mi or 500m"


def image_problem(value: Any) -> str | None:
    """Why ``value`` is not an image reference ([registry/]repository[:tag][@digest]), or None."""
    try:
        parse_reference(value)
    except InvalidReference as exc:
        return str(exc)
    return None


def _port_problem(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return None
    return f"{value!r} must be a TCP port (1-65535)"


def _non_negative(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return None
    return f"{value!r} must be 0 or a positive number"


def _positive(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return None
    return f"{value!r} must be a positive number"


# Options checked for their format in every role that has them (after the spec converted them).
# Every *_timeout, *_retries, *_replicas ... option typed int is range-checked by its suffix below.
FORMATS: dict[str, Callable[[Any], str | None]] = {
    "yellow_airflow_helm_timeout": go_duration_problem,
    "yellow_airflow_git_period": go_duration_problem,
    "yellow_airflow_worker_storage_size": quantity_problem,
    "yellow_airflow_triggerer_storage_size": quantity_problem,
    "yellow_airflow_redis_storage_size": quantity_problem,
    "yellow_airflow_logs_storage_size": quantity_problem,
    "yellow_ops_job_pod_cpu": quantity_problem,
    "yellow_ops_job_pod_memory": quantity_problem,
    "yellow_bootstrap_image": image_problem,
    "yellow_ops_utility_image": image_problem,
    "yellow_ops_simulator_image": image_problem,
    "yellow_verify_probe_image": image_problem,
    "yellow_verify_airflow_settle_timeout": _non_negative,  # 0: ask once
    "yellow_verify_airflow_settle_interval": _positive,
}
SUFFIX_FORMATS: tuple[tuple[str, Callable[[Any], str | None]], ...] = (
    ("_port", _port_problem),
    ("_timeout", _positive),
    ("_grace", _non_negative),
    ("_retries", _non_negative),
    ("_replicas", _non_negative),
    ("_throttle", _non_negative),
    ("_lines", _positive),
    ("_days", _positive),
    ("_page_size", _positive),
    ("_minutes", _positive),
)


def format_problems(values: Mapping[str, Any], spec: Mapping[str, Any]) -> list[str]:
    """Durations, quantities, image references and numeric ranges of the options that are set."""
    problems = []
    for name in sorted(values):
        value = values[name]
        if value is None:
            continue
        check = FORMATS.get(name)
        kind = (spec.get(name) or {}).get("type", "str")
        if check is None and kind in ("int", "float"):
            check = next((rule for suffix, rule in SUFFIX_FORMATS if name.endswith(suffix)), None)
        if check is None:
            continue
        problem = check(value)
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


# ---- credentials in URLs ---------------------------------------------------------------------


def _string_leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _string_leaves(item, f"{path}.{key}")
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for index, item in enumerate(value):
            yield from _string_leaves(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def url_credential_problems(values: Mapping[str, Any], secret_names: Sequence[str] = ()) -> list[str]:
    """Inputs that embed credentials in a URL (https://user:TOKEN@host/...), without echoing them.

    Any userinfo in an http(s) URL is refused (a lone user name there is how tokens are passed);
    for other schemes (ssh://git@host/...) a user name alone is fine, a password is not.
    """
    problems = []
    for name in sorted(values):
        if name in secret_names:
            continue
        for path, text in _string_leaves(values[name], name):
            for match in URL_WITH_USERINFO.finditer(text.strip()):
                scheme, userinfo = match.group("scheme").lower(), match.group("userinfo")
                if scheme in ("http", "https") or ":" in userinfo:
                    try:
                        host = urlsplit(text.strip()).hostname or "?"
                    except ValueError:
                        host = "?"
                    problems.append(
                        f"{path}: the URL embeds credentials ({scheme}://****@{host}/...); remove them from the URL and "
                        "give the user and token through the role's username/token variables (from Ansible Vault)")
    return problems


# ---- secrets ---------------------------------------------------------------------------------


def secret_option_names(spec: Mapping[str, Any]) -> list[str]:
    """Options of ``spec`` whose value is a secret (no_log, or named like one)."""
    return [name for name, option in spec.items() if (option or {}).get("no_log") or SECRET_NAME.search(name)]


def _secret_leaves(spec: Mapping[str, Any], values: Mapping[str, Any]) -> Iterator[Any]:
    for name, option in spec.items():
        if name not in values:
            continue
        value = values[name]
        if name in secret_option_names(spec):
            yield from (leaf for _path, leaf in _string_leaves(value, name))
            continue
        for sub_name, sub in ((option or {}).get("options") or {}).items():
            if not ((sub or {}).get("no_log") or SECRET_NAME.search(sub_name)):
                continue
            items = value if isinstance(value, Sequence) and not isinstance(value, (str, bytes, Mapping)) else [value]
            for item in items:
                if isinstance(item, Mapping) and isinstance(item.get(sub_name), str):
                    yield item[sub_name]


def secret_values(spec: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """Every secret string among ``values`` (to redact messages with; never to print), longest first."""
    # The HOWTO's example passwords are public words ("password", "admin"): messages name them, and
    # replacing them would garble every message that says "password".
    found = {leaf for leaf in _secret_leaves(spec, values)
             if isinstance(leaf, str) and len(leaf) >= MIN_REDACT_LENGTH and not ERROR_MARKER.match(leaf)
             and leaf not in EXAMPLE_PASSWORDS | PLACEHOLDER_PASSWORDS}
    return sorted(found, key=len, reverse=True)


def redact(message: str, secrets: Sequence[str]) -> str:
    """``message`` with every occurrence of every secret replaced."""
    for secret in secrets:
        message = message.replace(secret, REDACTED)
    return message


# ---- the argument spec -----------------------------------------------------------------------


def collection_root() -> str:
    """The collection's directory (…/ansible_collections/datasurface/yellow), installed or a checkout."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_yaml(path: str) -> Any:
    import yaml  # pylint: disable=import-outside-toplevel  # PyYAML comes with ansible-core

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def role_spec(role: str, entry_point: str = "main", root: str | None = None) -> dict[str, Any]:
    """The options of one entry point of a role's meta/argument_specs.yml."""
    path = os.path.join(root or collection_root(), "roles", role, "meta", "argument_specs.yml")
    if not os.path.isfile(path):
        raise ValueError(f"role {role!r} has no meta/argument_specs.yml in this collection")
    specs = (load_yaml(path) or {}).get("argument_specs") or {}
    if entry_point not in specs:
        raise ValueError(f"role {role!r} has no entry point {entry_point!r} (it has {', '.join(sorted(specs))})")
    return dict(specs[entry_point].get("options") or {})


def role_defaults(role: str, root: str | None = None) -> dict[str, Any]:
    """The raw (untemplated) defaults/main.yml of a role."""
    path = os.path.join(root or collection_root(), "roles", role, "defaults", "main.yml")
    return dict(load_yaml(path) or {}) if os.path.isfile(path) else {}


def _without_defaults(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` without ``default`` keys (the role's defaults/main.yml is the one source of defaults)."""
    clean = {}
    for name, option in spec.items():
        option = {key: value for key, value in (option or {}).items() if key not in ("default", "description", "version_added")}
        if isinstance(option.get("options"), Mapping):
            option["options"] = _without_defaults(option["options"])
        clean[name] = option
    return clean


def _shape_problems(spec: Mapping[str, Any], values: Mapping[str, Any]) -> tuple[list[str], set[str]]:
    """Strings where a list or dict is wanted (and the reverse), and booleans that are not booleans (by name)."""
    problems, bad = [], set()
    for name, option in spec.items():
        if name not in values:
            continue
        value, kind = values[name], (option or {}).get("type", "str")
        if kind == "list" and (isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence)):
            shown = f"the string {value!r}" if isinstance(value, str) and name not in secret_option_names(spec) else type(value).__name__
            problems.append(f"{name}: must be a list (YAML [a, b] or one '- item' per line), not {shown}")
            bad.add(name)
        elif kind in ("str", "path") and isinstance(value, (Mapping, list, tuple)):
            problems.append(f"{name}: must be a string, not a {'mapping' if isinstance(value, Mapping) else 'list'}")
            bad.add(name)
        elif kind == "dict" and not isinstance(value, Mapping):
            problems.append(f"{name}: must be a mapping (key: value), not {type(value).__name__}")
            bad.add(name)
        elif kind == "bool" and not isinstance(value, bool):
            normalized = value.lower().strip() if isinstance(value, str) else value
            if normalized not in BOOLEANS:
                problems.append(f"{name}: {value!r} is not a boolean (true/false, yes/no, 1/0)")
                bad.add(name)
    return problems, bad


_MISSING = re.compile(r"^missing required arguments: (?P<names>.*?)(?: found in .*)?$")
_ARGUMENT = re.compile(r"^argument '(?P<name>[^']+)' (?P<rest>.*)$", re.DOTALL)
_CHOICES = re.compile(r"^value of (?P<name>\S+) must be (?P<rest>.*)$", re.DOTALL)
_ELEMENTS = re.compile(r"^Elements value for option '(?P<name>[^']+)' (?P<rest>.*)$", re.DOTALL)


def _spec_error_problems(errors: Sequence[Any], role: str) -> list[str]:
    problems = []
    for error in errors:
        text = str(error).strip()
        missing = _MISSING.match(text)
        argument = _ARGUMENT.match(text)
        elements = _ELEMENTS.match(text)
        choices = _CHOICES.match(text)
        if missing:
            for name in missing.group("names").split(","):
                problems.append(f"{name.strip()}: must be set (required by the {role} role)")
        elif argument:
            problems.append(f"{argument.group('name')}: {argument.group('rest')} ({role} role argument spec)")
        elif choices:
            problems.append(f"{choices.group('name')}: must be {choices.group('rest')} ({role} role argument spec)")
        elif elements:
            problems.append(f"{elements.group('name')}: elements {elements.group('rest')} ({role} role argument spec)")
        else:
            problems.append(f"{text} ({role} role argument spec)")
    return problems


def validate_spec(spec: Mapping[str, Any], values: Mapping[str, Any], role: str) -> tuple[list[str], dict[str, Any]]:
    """Steps 2-4 of the module docstring: problems and the values converted to their spec types."""
    present = {name: value for name, value in values.items() if name in spec and value is not None}
    problems, bad = _shape_problems(spec, present)
    checked_spec = _without_defaults({name: option for name, option in spec.items() if name not in bad})
    for name in bad:
        present.pop(name)
    result = ArgumentSpecValidator(checked_spec).validate(present)
    problems += _spec_error_problems(result.error_messages, role)
    # Only what was given: the validator fills absent options with None (and absent booleans with False).
    converted = {name: value for name, value in result.validated_parameters.items() if name in present}
    for name, option in spec.items():
        if (option or {}).get("type") == "bool" and name in converted and not isinstance(converted[name], bool):
            converted[name] = boolean(converted[name], strict=False)
    # Options the spec reported are left out of the role's own checks (one message per mistake).
    reported = {problem.split(":", 1)[0].split("[", 1)[0] for problem in problems}
    return problems, {name: value for name, value in converted.items() if name not in reported and value is not None}


# ---- the role's own checks -------------------------------------------------------------------


def _checks() -> dict[tuple[str, str], Callable[..., list[str]]]:
    # Imported here: validation and operations import this module's helpers.
    # pylint: disable=import-outside-toplevel
    from ansible_collections.datasurface.yellow.plugins.plugin_utils import operations, validation

    checks: dict[tuple[str, str], Callable[..., list[str]]] = {
        ("postgres_host", "main"): validation.postgres_host_problems,
        ("node_prep", "main"): validation.node_prep_problems,
        ("node_prep", "pull"): validation.node_prep_problems,
        ("platform_prereqs", "main"): validation.k8s_prereqs_problems,
        ("airflow", "main"): validation.airflow_problems,
        ("airflow", "values"): validation.airflow_problems,
        ("bootstrap", "main"): validation.bootstrap_problems,
        ("bootstrap", "update_dags"): validation.bootstrap_problems,
        ("bootstrap", "rerun_jobs"): validation.bootstrap_problems,
        ("verify", "main"): validation.verify_problems,
        ("preflight", "main"): lambda values, **_: [],
    }
    for operation in operations.OPERATIONS:
        checks[("operations", operation)] = lambda values, _op=operation, **_: operations.operations_problems(values, _op)
    checks[("operations", "check_image")] = lambda values, **_: operations.operations_problems(values, "update_image")
    return checks


def _about(problem: str, names: Sequence[str]) -> bool:
    return any(problem == name or problem.startswith((f"{name}:", f"{name}[", f"{name}.", f"{name} ")) for name in names)


def role_input_problems(role: str, values: Mapping[str, Any], entry_point: str = "main", *,
                        os_family: str | None = None, spec: Mapping[str, Any] | None = None,
                        extra: Callable[[Mapping[str, Any]], list[str]] | None = None) -> list[str]:
    """Everything wrong with one role entry point's inputs (see the module docstring), redacted.

    ``values`` maps variable names to values (error markers for those that could not be evaluated);
    only the options of the entry point's spec are looked at. ``extra`` adds checks of the caller's
    (the preflight's example passwords) on the converted values.
    """
    spec = dict(spec if spec is not None else role_spec(role, entry_point))
    checks = _checks()
    if (role, entry_point) not in checks:
        raise ValueError(f"no input checks for {role} entry point {entry_point}")
    values = {name: value for name, value in values.items() if name in spec}
    broken = {}
    for name, value in values.items():
        why = error_reason(value)
        if why is not None:
            broken[name] = why
    problems = [f"{name}: cannot be evaluated ({why})" for name, why in sorted(broken.items())]
    usable = {name: value for name, value in values.items() if name not in broken}
    secrets = secret_values(spec, usable)

    spec_problems, converted = validate_spec({k: v for k, v in spec.items() if k not in broken}, usable, role)
    # A variable the spec already reported (missing, wrong type) gets no second message from the role's checks.
    reported = sorted({problem.split(":", 1)[0].split("[", 1)[0].split(" ", 1)[0] for problem in spec_problems})
    found = list(spec_problems)
    found += [problem for problem in checks[(role, entry_point)](converted, os_family=os_family) if not _about(problem, reported)]
    reported = sorted({problem.split(":", 1)[0].split("[", 1)[0].split(" ", 1)[0] for problem in found})
    found += [problem for problem in format_problems(converted, spec) if not _about(problem, reported)]
    found += url_credential_problems(converted, secret_option_names(spec))
    if extra is not None:
        found += extra(converted)
    for problem in found:
        problem = URL_USERINFO_ANYWHERE.sub(r"\g<scheme>://****@", redact(problem, secrets))
        if not _about(problem, list(broken)) and problem not in problems:
            problems.append(problem)
    return problems


def error_reason(value: Any) -> str | None:
    """Why a value could not be evaluated (the first failed template in it), or None."""
    for _path, leaf in _string_leaves(value, ""):
        match = ERROR_MARKER.match(leaf)
        if match:
            return match.group("why").strip()
    return None


# ---- example passwords and the preflight's summary -------------------------------------------

# The passwords the manual HOWTO uses in its examples: never acceptable outside a throwaway lab.
EXAMPLE_PASSWORDS = frozenset({"password", "Passw0rd123!", "admin", "pass@w0rd", "datasurface"})
# The placeholder of inventories/*/group_vars/all/vault.yml.example: never acceptable.
PLACEHOLDER_PASSWORDS = frozenset({"CHANGE-ME"})


def _secret_paths(spec: Mapping[str, Any], values: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(path, value) of every secret among ``values``; an entry of a list is named by its name/host."""
    secret_names = secret_option_names(spec)
    for name in sorted(values):
        option = spec.get(name) or {}
        if name in secret_names:
            yield from _string_leaves(values[name], name)
            continue
        subs = [sub for sub, sub_spec in (option.get("options") or {}).items()
                if (sub_spec or {}).get("no_log") or SECRET_NAME.search(sub)]
        value = values[name]
        items = value if isinstance(value, Sequence) and not isinstance(value, (str, bytes, Mapping)) else [value]
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                continue
            label = item.get("name") or item.get("host")
            for sub in subs:
                if isinstance(item.get(sub), str):
                    where = f"{name}[{index}].{sub}" if items is value else f"{name}.{sub}"
                    yield (f"{where} ({label})" if isinstance(label, str) and label else where), item[sub]


def example_password_problem(path: str, leaf: Any, allow_examples: bool) -> str | None:
    """The problem when the secret at ``path`` is the vault placeholder or (unless allowed) a HOWTO example."""
    if leaf in PLACEHOLDER_PASSWORDS:
        return f"{path}: is still the placeholder of vault.yml.example; set the real secret in Ansible Vault"
    if leaf in EXAMPLE_PASSWORDS and not allow_examples:
        return (f"{path}: is one of the HOWTO's example passwords; set a real secret from Ansible Vault "
                "(allowed only with yellow_lab: true or yellow_preflight_allow_example_passwords: true)")
    return None


def example_password_problems(spec: Mapping[str, Any], values: Mapping[str, Any], allow_examples: bool) -> list[str]:
    """Secrets that are the vault placeholder, or one of the HOWTO's example passwords (unless allowed)."""
    found = (example_password_problem(path, leaf, allow_examples) for path, leaf in _secret_paths(spec, values))
    return [problem for problem in found if problem]


def trusted(value: Any) -> Any:
    """``value`` with every string marked as a trusted template (a role's own defaults, as when the role runs)."""
    from ansible.template import trust_as_template  # pylint: disable=import-outside-toplevel  # controller only

    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, Mapping):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def _names_only(items: Any) -> list[str]:
    if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
        return []
    return [item["name"] for item in items if isinstance(item, Mapping) and isinstance(item.get("name"), str)]


# What the preflight's cross-checks need of each role's (converted) inputs: never a secret.
SUMMARY = {
    "postgres_host": {"yellow_pg_users": _names_only, "yellow_pg_databases": _names_only, "yellow_pg_hba_cidrs": list},
    "airflow": {name: None for name in ("yellow_airflow_namespace", "yellow_airflow_db_user", "yellow_airflow_db_name",
                                        "yellow_airflow_db_port", "yellow_airflow_storage_class",
                                        "yellow_airflow_logs_storage_class", "yellow_airflow_logs_persistence",
                                        "yellow_airflow_image_tag")},
    "bootstrap": {"yellow_bootstrap_namespace": None, "yellow_bootstrap_psp": None},
    "platform_prereqs": {"yellow_k8s_namespace": None},
}


def check_role(role: str, values: Mapping[str, Any], entry_point: str = "main", *, os_family: str | None = None,
               example_passwords: str = "skip", spec: Mapping[str, Any] | None = None) -> tuple[list[str], dict[str, Any]]:
    """``role_input_problems`` plus the example-password rule, and the role's summary for the cross-checks."""
    spec = dict(spec if spec is not None else role_spec(role, entry_point))
    converted: dict[str, Any] = {}

    def extra(values_converted: Mapping[str, Any]) -> list[str]:
        converted.update(values_converted)
        if example_passwords == "skip":
            return []
        return example_password_problems(spec, values_converted, example_passwords == "allow")

    problems = role_input_problems(role, values, entry_point, os_family=os_family, spec=spec, extra=extra)
    summary = {}
    for name, shape in SUMMARY.get(role, {}).items():
        if name in converted:
            summary[name] = shape(converted[name]) if shape else converted[name]
    return problems, summary

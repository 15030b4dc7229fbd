"""Checks on user input, run before any request is sent.

Each check returns the value in the form the API wants, or raises ``DataArtsInputError`` (a ``ValueError``)
with a message that names the field and the rule it broke.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from airflow_provider_dataarts.exceptions import DataArtsInputError

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
ID_MAX_LENGTH = 64
CHECK_TASK_ID_MAX_LENGTH = 32  # seed 004: "1 to 32 characters"
JOB_NAME_MAX_LENGTH = 128
JOB_PARAM_NAME_MAX_LENGTH = 64  # seed 002, JobParam.name
JOB_PARAM_VALUE_MAX_LENGTH = 1024  # seed 002, JobParam.value
ACTIONS = ("start", "stop")
RULE_TYPES = {1: "quality job", 2: "comparison job"}
TASK_TYPES = {1: "QUALITY_TASK", 2: "CONSISTENCY_TASK"}  # the run-result list's name for each rule_type
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# What a template renders when it finds nothing, such as an xcom_pull of a task that pushed no value.
_NOTHING_HINT = "a template that finds nothing (an xcom_pull of a task that pushed no value?) renders None"
_TEMPLATE_MARKS = ("{{", "{%", "{#")
HOOK_PARAMS = ("retry_limit", "retry_delay", "retry_max_delay", "logger_name")


def rendered_later(value: Any) -> bool:
    """Whether ``value`` is known only once Airflow renders the task: a Jinja template (also
    inside a dict or list) or an object such as an ``XComArg``. Anything else is a literal,
    checked when the DAG is parsed."""
    if isinstance(value, str):
        return any(mark in value for mark in _TEMPLATE_MARKS)
    if isinstance(value, Mapping):
        return any(rendered_later(key) or rendered_later(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(rendered_later(item) for item in value)
    return not isinstance(value, (int, float, bool, type(None), datetime))


def now(check: Callable[[Any], Any], value: Any) -> None:
    """Run ``check(value)`` at once (at DAG parse time) unless ``value`` is rendered later."""
    if not rendered_later(value):
        check(value)


def _text(field: str, value: Any) -> str:
    if value is None:
        raise DataArtsInputError(f"{field} must be a string, got None ({_NOTHING_HINT})")
    if isinstance(value, bool):
        raise DataArtsInputError(f"{field} must be a string, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise DataArtsInputError(f"{field} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise DataArtsInputError(f"{field} must not be empty")
    if value != value.strip():
        raise DataArtsInputError(f"{field} must not start or end with whitespace, got {value!r}")
    return value


def identifier(field: str, value: Any, max_length: int = ID_MAX_LENGTH) -> str:
    """An id (rule, instance, check task, project, workspace): 1 to ``max_length`` of ``A-Z a-z 0-9 _ -``.

    Integers are accepted and sent as their decimal string, so 19-digit ids never pass through float.
    """
    text = _text(field, value)
    if text in ("None", "null"):
        raise DataArtsInputError(f"{field} must be an id, got {text!r} ({_NOTHING_HINT})")
    if not ID_PATTERN.fullmatch(text):
        bad = next(ch for ch in text if not ID_PATTERN.fullmatch(ch))
        raise DataArtsInputError(
            f"{field} may contain only letters, digits, '_' and '-', got {text!r} (contains {bad!r})"
        )
    if len(text) > max_length:
        raise DataArtsInputError(f"{field} must be at most {max_length} characters, got {len(text)}")
    return text


def job_name(value: Any, field: str = "job_name") -> str:
    """A DataArts Factory job name: 1 to 128 characters that cannot change the URL path.

    Any other character (spaces, ``?``, ``#``, ``%``, non-ASCII) is allowed and percent-encoded.
    ``/`` is refused rather than encoded: the signature decodes the whole path, so an encoded
    ``/`` would be signed as a separator.
    """
    text = _text(field, value)
    if len(text) > JOB_NAME_MAX_LENGTH:
        raise DataArtsInputError(f"{field} must be at most {JOB_NAME_MAX_LENGTH} characters, got {len(text)}")
    if "/" in text or "\\" in text:
        raise DataArtsInputError(f"{field} must not contain '/' or '\\' (it would change the URL path), got {text!r}")
    if text in (".", ".."):
        raise DataArtsInputError(f"{field} must not be '.' or '..' (it would change the URL path)")
    if _CONTROL.search(text):
        raise DataArtsInputError(f"{field} must not contain control characters such as newlines, got {text!r}")
    return text


def action(value: Any) -> str:
    """``start`` or ``stop``."""
    if value not in ACTIONS:
        raise DataArtsInputError(f"action must be 'start' or 'stop', got {value!r}")
    return value


def rule_type(value: Any) -> int:
    """1 (quality job) or 2 (comparison job); the strings ``"1"``/``"2"`` a template renders are accepted."""
    if isinstance(value, str) and value.strip() in ("1", "2"):
        value = int(value)
    if isinstance(value, bool) or value not in RULE_TYPES:
        raise DataArtsInputError(f"rule_type must be 1 (quality job) or 2 (comparison job), got {value!r}")
    return value


def _param_value(name: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DataArtsInputError(f"job_params[{name!r}] must be a string or a number, got {type(value).__name__}")
    text = str(value)
    if len(text) > JOB_PARAM_VALUE_MAX_LENGTH:
        raise DataArtsInputError(
            f"job_params[{name!r}] value must be at most {JOB_PARAM_VALUE_MAX_LENGTH} characters, got {len(text)}"
        )
    return text


def _parse_rendered(text: str) -> Any:
    # A template renders a dict either as JSON ("{{ params.p | tojson }}") or as its Python
    # repr ("{{ params.p }}"); both are read, neither is evaluated as code.
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        raise DataArtsInputError(
            "job_params must be a dict, a list of {'name', 'value'} pairs, or JSON of either; "
            f"got a string that is neither JSON nor a literal: {text[:80]!r}"
        ) from None


def job_params(value: Any) -> list[dict[str, str]]:
    """Normalise ``job_params`` to the API's ``[{"name": ..., "value": ...}]``.

    Accepts a dict ``{name: value}``, the API's list of pairs, or either as a string a
    Jinja template rendered (JSON, or the Python literal ``{{ params.p }}`` gives).
    Names: 1 to 64 characters; values: strings or numbers of at most 1024 characters.
    """
    if value is None:
        return []
    if isinstance(value, str):
        value = _parse_rendered(value)
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        pairs = []
        for item in value:
            if not isinstance(item, Mapping) or set(item) != {"name", "value"}:
                raise DataArtsInputError(f"job_params list items must be {{'name': ..., 'value': ...}}, got {item!r}")
            pairs.append((item["name"], item["value"]))
    else:
        raise DataArtsInputError(
            f"job_params must be a dict or a list of {{'name', 'value'}} pairs, got {type(value).__name__}"
        )
    result: list[dict[str, str]] = []
    seen: set[str] = set()
    for name, param_value in pairs:
        if not isinstance(name, str) or not name.strip():
            raise DataArtsInputError(f"job_params names must be non-empty strings, got {name!r}")
        if len(name) > JOB_PARAM_NAME_MAX_LENGTH:
            raise DataArtsInputError(
                f"job_params name {name[:20]!r}... must be at most {JOB_PARAM_NAME_MAX_LENGTH} characters, "
                f"got {len(name)}"
            )
        if name in seen:
            raise DataArtsInputError(f"job_params name {name!r} is given twice")
        seen.add(name)
        result.append({"name": name, "value": _param_value(name, param_value)})
    return result


def connection_id(value: Any) -> str:
    """An Airflow connection id: a non-empty string."""
    return _text("dataarts_conn_id", value)


def region(value: Any) -> str:
    """A region name such as ``cn-north-4``; whether DataArts serves it is known only with the connection."""
    text = _text("region", value)
    if not re.fullmatch(r"[a-z0-9-]+", text):
        raise DataArtsInputError(f"region must look like cn-north-4 (lower-case letters, digits, '-'), got {text!r}")
    return text


def boolean(field: str, value: Any) -> bool:
    """``True`` or ``False``; a string such as ``"false"`` is refused, as it would count as true."""
    if not isinstance(value, bool):
        raise DataArtsInputError(f"{field} must be True or False, got {value!r}")
    return value


def seconds(field: str, value: Any, *, allow_none: bool = False, allow_zero: bool = False) -> float | None:
    """A positive number of seconds (or ``None`` / 0 where allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (value == 0 and not allow_zero):
        rule = "a non-negative" if allow_zero else "a positive"
        raise DataArtsInputError(f"{field} must be {rule} number of seconds{' or None' * allow_none}, got {value!r}")
    return float(value)


def retry_settings(retry_limit: Any, retry_delay: Any, retry_max_delay: Any) -> None:
    """The hook's retry arguments: at least one try, delays not negative."""
    if isinstance(retry_limit, bool) or not isinstance(retry_limit, int) or retry_limit < 1:
        raise DataArtsInputError(f"retry_limit must be a whole number of at least 1, got {retry_limit!r}")
    seconds("retry_delay", retry_delay, allow_zero=True)
    seconds("retry_max_delay", retry_max_delay, allow_zero=True)


def hook_params(value: Any) -> dict[str, Any]:
    """``hook_params`` of an operator: a dict of :class:`DataArtsHook` arguments, checked as the hook would."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DataArtsInputError(f"hook_params must be a dict such as {{'retry_limit': 3}}, got {value!r}")
    unknown = sorted(set(value) - set(HOOK_PARAMS))
    if unknown:
        raise DataArtsInputError(f"hook_params keys must be among {', '.join(HOOK_PARAMS)}, got {unknown}")
    defaults = {"retry_limit": 1, "retry_delay": 0, "retry_max_delay": 0}
    retry_settings(**{**defaults, **{k: v for k, v in value.items() if k in defaults}})
    return dict(value)


def epoch_ms(field: str, value: Any) -> int | None:
    """A point in time as epoch milliseconds: a datetime, a number of ms, or its ISO-8601 / digit string."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    elif isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise DataArtsInputError(
                f"{field} must be a datetime, epoch milliseconds or an ISO-8601 time, got {value!r}"
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:  # as Airflow reads a naive datetime in a DAG (default_timezone UTC)
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int) or value < 10**11:
        raise DataArtsInputError(
            f"{field} must be a datetime, epoch milliseconds (13 digits) or an ISO-8601 time, got {value!r}"
        )
    return value


def utc(ms: int) -> str:
    """Epoch milliseconds as a readable UTC time, for messages."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")

"""What the emulated DataArts Quality, DataArts Factory, CodeArts Check and IAM answer.

:class:`DataArtsService` holds the state (quality jobs, their run instances,
Factory jobs, check tasks, IAM users and tokens), verifies ``SDK-HMAC-SHA256``
signatures and tokens, and answers one parsed request at a time. It knows
nothing of sockets; :mod:`airflow_provider_dataarts.emulator.server` does.

Error codes follow the seed pages where they give one (``DLF.0100``,
``CC.00000003``, ``APIGW.0301``); the other ``DQC.10xx`` / ``DLF.01xx`` /
``CC.0000000x`` codes are the emulator's own and are listed in the README.
"""

from __future__ import annotations

import bisect
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from airflow_provider_dataarts import signer

DEFAULT_AK = "EMULATORACCESSKEY000"
DEFAULT_SK = "emulator-secret-key-not-for-production"
DEFAULT_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DEFAULT_WORKSPACE = "f9e8d7c6b5a4938271605f4e3d2c1b0a"
SIGNATURE_MAX_AGE = timedelta(minutes=15)
TERMINAL = ("SUCCESS", "FAILED", "ALARMING")
TASK_TYPES = {1: "QUALITY_TASK", 2: "CONSISTENCY_TASK"}
# The rules, jobs, check task and IAM user the example DAGs use: what the emulator starts with.
DEMO_CONFIG_PATH = Path(__file__).with_name("demo.json")
_AUTH_RE = re.compile(r"SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)")


@dataclass
class Request:
    """One parsed HTTP request; ``path`` is as received (percent-encoded)."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def query(self) -> list[tuple[str, str]]:
        pairs = []
        for part in self.query_string.split("&") if self.query_string else []:
            name, _, value = part.partition("=")
            pairs.append((unquote(name), unquote(value)))
        return pairs


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if self.status == 204:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


CONFIG_KEYS = ("rules", "jobs", "check_tasks", "users", "history")


class EmulatorConfigError(ValueError):
    """A configuration the emulator cannot load; the message names the key, e.g. ``rules[0].outcomes``."""


def demo_config() -> dict[str, Any]:
    """The demo set (``demo.json`` next to this module), a sample of every configuration key."""
    return json.loads(DEMO_CONFIG_PATH.read_text())


def _check_config(config: Any) -> None:
    """Raise :class:`EmulatorConfigError` naming the first key of ``config`` that :meth:`DataArtsService.load`
    could not use, before anything is loaded."""

    def fail(where: str, rule: str, value: Any) -> None:
        raise EmulatorConfigError(f"{where}: {rule}, got {value!r}")

    def items(key: str, kind: type | tuple[type, ...], what: str) -> list[Any]:
        value = config.get(key, [])
        if not isinstance(value, list):
            fail(key, "must be a list", value)
        for n, item in enumerate(value):
            if not isinstance(item, kind) or isinstance(item, bool) or item in ("", {}):
                fail(f"{key}[{n}]", f"must be {what}", item)
        return value

    def keys(where: str, item: Mapping[str, Any], required: set[str], allowed: set[str]) -> None:
        for name in sorted(required - set(item)):
            fail(f"{where}.{name}", "is required", None)
        for name in sorted(set(item) - allowed):
            fail(f"{where}.{name}", f"is not a known key (known: {', '.join(sorted(allowed))})", item[name])

    if not isinstance(config, Mapping):
        fail("config", "must be a JSON object", config)
    for name in sorted(set(config) - set(CONFIG_KEYS)):
        fail(name, f"is not a known key (known: {', '.join(CONFIG_KEYS)})", config[name])
    rule_ids = set()
    for n, rule in enumerate(items("rules", dict, 'an object such as {"rule_id": "1001"}')):
        where = f"rules[{n}]"
        keys(where, rule, {"rule_id"}, {"rule_id", "name", "rule_type", "outcomes", "duration"})
        if not isinstance(rule["rule_id"], (str, int)) or isinstance(rule["rule_id"], bool) or rule["rule_id"] == "":
            fail(f"{where}.rule_id", "must be a non-empty string", rule["rule_id"])
        if rule.get("rule_type", 1) not in (1, 2) or isinstance(rule.get("rule_type"), bool):
            fail(f"{where}.rule_type", "must be 1 (quality job) or 2 (comparison job)", rule["rule_type"])
        outcomes = rule.get("outcomes", ["SUCCESS"])
        if not isinstance(outcomes, list) or not outcomes or any(o not in TERMINAL for o in outcomes):
            fail(f"{where}.outcomes", f"must be a non-empty list of {', '.join(TERMINAL)}", outcomes)
        duration = rule.get("duration", 1.0)
        if not isinstance(duration, (int, float)) or isinstance(duration, bool) or duration < 0:
            fail(f"{where}.duration", "must be a number of seconds, 0 or more", duration)
        if not isinstance(rule.get("name", ""), str):
            fail(f"{where}.name", "must be a string", rule["name"])
        rule_ids.add(str(rule["rule_id"]))
    items("jobs", str, "a job name (a non-empty string)")
    items("check_tasks", str, "a check task id (a non-empty string)")
    for n, user in enumerate(items("users", dict, "an object with domain, name and password")):
        keys(f"users[{n}]", user, {"domain", "name", "password"}, {"domain", "name", "password"})
        for name in ("domain", "name", "password"):
            if not isinstance(user[name], str) or not user[name]:
                fail(f"users[{n}].{name}", "must be a non-empty string", user[name])
    for n, history in enumerate(items("history", dict, 'an object such as {"rule_id": "1001", "count": 50}')):
        keys(f"history[{n}]", history, {"rule_id", "count"}, {"rule_id", "count", "days"})
        if str(history["rule_id"]) not in rule_ids:
            fail(f"history[{n}].rule_id", "must be the rule_id of a rule in this config", history["rule_id"])
        count = history["count"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            fail(f"history[{n}].count", "must be a whole number, 0 or more", count)
        days = history.get("days", 30)
        if not isinstance(days, (int, float)) or isinstance(days, bool) or days <= 0:
            fail(f"history[{n}].days", "must be a positive number of days", days)


class ApiError(Exception):
    def __init__(self, status: int, code: str, msg: str) -> None:
        super().__init__(msg)
        self.response = Response(status, {"error_code": code, "error_msg": msg})


@dataclass
class Rule:
    """A quality (``rule_type`` 1) or comparison (2) job; its reruns end in ``outcomes`` in turn."""

    rule_id: str
    name: str
    rule_type: int = 1
    outcomes: list[str] = field(default_factory=lambda: ["SUCCESS"])
    duration: float = 1.0
    scheduling: str = "stopped"
    reruns: int = 0


@dataclass
class Instance:
    id: int
    rule_id: str
    name: str
    task_type: str
    start_ms: int
    duration: float
    outcome: str
    cancelled_ms: int | None = None

    def run_status(self, now_ms: int) -> str:
        if self.cancelled_ms is not None:
            return "FAILED"
        return self.outcome if now_ms >= self.start_ms + self.duration * 1000 else "RUNNING"

    def end_ms(self, now_ms: int) -> int | None:
        if self.cancelled_ms is not None:
            return self.cancelled_ms
        end = self.start_ms + int(self.duration * 1000)
        return end if now_ms >= end else None

    def summary(self, now_ms: int) -> dict[str, Any]:
        status = self.run_status(now_ms)
        return {
            "id": self.id,  # a JSON number, up to 19 digits, as the real list returns it
            "name": self.name,
            "task_id": int(self.rule_id) if self.rule_id.isdigit() else self.rule_id,
            "task_type": self.task_type,
            "run_status": status,
            "notify_status": "NOT_TRIGGERED" if status in ("RUNNING", "SUCCESS") else "SUCCESS",
            "start_time": self.start_ms,
            "end_time": self.end_ms(now_ms),
        }


@dataclass
class Job:
    name: str
    state: str = "STOPPED"
    starts: int = 0
    stops: int = 0
    last_params: list[dict[str, str]] = field(default_factory=list)
    workspace: str | None = None


@dataclass
class Fault:
    """A misbehaviour for requests whose path matches ``path`` (a regular expression, searched).

    :param status: answer with this status and an error body instead of handling the request.
    :param times: how many matching requests it applies to (``None``: all).
    :param retry_after: ``Retry-After`` seconds sent with ``status``.
    :param body: raw answer body for ``status`` (for non-JSON error pages).
    :param latency: seconds to wait after handling, before answering.
    :param drop: ``"before"``: close the connection without handling; ``"after"``: handle,
        then close without answering.
    :param malformed: handle, then answer 200 with truncated JSON.
    :param method: only for this HTTP method.
    :param skip: let this many matching requests through untouched first.
    """

    path: str = ".*"
    status: int | None = None
    times: int | None = 1
    retry_after: float | None = None
    body: str | None = None
    latency: float = 0.0
    drop: str | None = None
    malformed: bool = False
    method: str | None = None
    skip: int = 0
    hits: int = 0
    passed: int = 0

    def matches(self, request: Request) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        if re.search(self.path, unquote(request.path)) is None:
            return False
        if self.passed < self.skip:
            self.passed += 1
            return False
        return True


class DataArtsService:
    """State and answers of the emulated APIs. Thread-safe: every entry point takes one lock.

    :param ak: the access key accepted; ``sk`` is its secret.
    :param temporary_keys: more ``{ak: (sk, security_token)}`` pairs, for temporary credentials.
    :param users: IAM ``{(domain, user): password}`` accepted by ``POST /v3/auth/tokens``.
    :param token_ttl: lifetime of issued IAM tokens, seconds.
    :param static_tokens: tokens accepted as ``X-Auth-Token`` without IAM (``auth_type: token``).
    """

    def __init__(
        self,
        *,
        ak: str = DEFAULT_AK,
        sk: str = DEFAULT_SK,
        project_id: str = DEFAULT_PROJECT_ID,
        workspaces: tuple[str, ...] = (DEFAULT_WORKSPACE,),
        temporary_keys: dict[str, tuple[str, str]] | None = None,
        users: dict[tuple[str, str], str] | None = None,
        token_ttl: float = 24 * 3600,
        static_tokens: tuple[str, ...] = (),
    ) -> None:
        self.lock = threading.RLock()
        self.keys: dict[str, tuple[str, str | None]] = {ak: (sk, None)}
        for key, (secret, token) in (temporary_keys or {}).items():
            self.keys[key] = (secret, token)
        self.project_id = project_id
        self.workspaces = set(workspaces)
        self.users = dict(users or {})
        self.token_ttl = token_ttl
        self.tokens: dict[str, float] = {token: float("inf") for token in static_tokens}
        self.rules: dict[str, Rule] = {}
        self.instances: dict[int, Instance] = {}
        self._by_start: list[tuple[int, int]] = []  # (start_ms, id), sorted: time windows by bisection
        self.jobs: dict[str, Job] = {}
        self.check_tasks: dict[str, str] = {}
        self.faults: list[Fault] = []
        self.calls: Counter[str] = Counter()
        self.log: deque[dict[str, Any]] = deque(maxlen=100_000)  # every request, newest last
        self._ids = itertools.count(1)

    # -- configuration ---------------------------------------------------------------

    def add_rule(self, rule_id: str, name: str | None = None, **kwargs: Any) -> Rule:
        with self.lock:
            rule = self.rules[str(rule_id)] = Rule(str(rule_id), name or f"rule_{rule_id}", **kwargs)
            return rule

    def add_job(self, name: str) -> Job:
        with self.lock:
            job = self.jobs[name] = Job(name)
            return job

    def add_check_task(self, task_id: str) -> None:
        with self.lock:
            self.check_tasks[task_id] = "RUNNING"

    def add_fault(self, fault: Fault | None = None, **kwargs: Any) -> Fault:
        with self.lock:
            fault = fault or Fault(**kwargs)
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def add_history(self, rule_id: str, count: int, *, days: float = 30.0) -> None:
        """Add ``count`` finished runs of ``rule_id`` spread over the last ``days`` days."""
        with self.lock:
            rule = self.rules[str(rule_id)]
            now = _now_ms()
            span = int(days * 86400 * 1000)
            for n in range(count):
                start = now - span + (span * n) // max(count, 1) - 3_600_000
                self._new_instance(rule, start_ms=start, duration=60.0, outcome=TERMINAL[n % 3])

    def load(self, config: Mapping[str, Any]) -> None:
        """Add what a configuration lists to what the emulator already knows.

        ``demo.json`` next to this module is a sample of every key (it is the demo set). All keys
        are optional lists:

        - ``rules``: ``{"rule_id", "name", "rule_type" (1 quality job, 2 comparison job),
          "outcomes" (SUCCESS / FAILED / ALARMING, one per rerun in turn), "duration" (seconds
          RUNNING)}``; only ``rule_id`` is required.
        - ``jobs``: DataArts Factory job names; ``check_tasks``: CodeArts Check task ids.
        - ``users``: ``{"domain", "name", "password"}`` accepted by IAM (auth type ``password``).
        - ``history``: ``{"rule_id", "count", "days"}``: ``count`` finished runs of a rule in this
          config, spread over the last ``days`` (default 30).

        :raises EmulatorConfigError: naming the key that is wrong; nothing is loaded then.
        """
        _check_config(config)
        for rule in config.get("rules", []):
            self.add_rule(**rule)
        for name in config.get("jobs", []):
            self.add_job(name)
        for task_id in config.get("check_tasks", []):
            self.add_check_task(task_id)
        for user in config.get("users", []):
            self.users[(user["domain"], user["name"])] = user["password"]
        for history in config.get("history", []):
            self.add_history(history["rule_id"], history["count"], days=history.get("days", 30.0))

    def snapshot(self) -> dict[str, Any]:
        """Calls made, instances, jobs and check tasks, as JSON-ready data."""
        with self.lock:
            now = _now_ms()
            return {
                "calls": dict(self.calls),
                "instances": [instance.summary(now) for instance in self.instances.values()],
                "jobs": {name: asdict(job) for name, job in self.jobs.items()},
                "check_tasks": dict(self.check_tasks),
                "rules": {rule_id: asdict(rule) for rule_id, rule in self.rules.items()},
            }

    def take_fault(self, request: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(request):
                    fault.hits += 1
                    return fault
            return None

    # -- requests --------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request (faults are applied by the server around this)."""
        with self.lock:
            try:
                name, handler, args = self._route(request)
                if name != "iam_token":
                    self._authenticate(request, service=name.split("_")[0])
                response = handler(request, *args)
                self.calls[name] += 1
            except ApiError as error:
                response = error.response
            self.log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query_string,
                    "status": response.status,
                }
            )
            return response

    _ROUTES = [
        ("POST", r"/v2/([^/]+)/quality/quality-tasks/action", "quality_action"),
        ("POST", r"/v2/([^/]+)/quality/instances/restart", "quality_rerun"),
        ("GET", r"/v2/([^/]+)/quality/instances", "quality_list"),
        ("GET", r"/v2/([^/]+)/quality/instances/([^/]+)/result", "quality_result"),
        ("PUT", r"/v2/([^/]+)/quality/instances/([^/]+)", "quality_cancel"),
        ("POST", r"/v1/([^/]+)/jobs/([^/]+)/start", "factory_start"),
        ("POST", r"/v1/([^/]+)/jobs/([^/]+)/stop", "factory_stop"),
        ("POST", r"/v2/tasks/([^/]+)/stop", "check_stop"),
        ("POST", r"/v3/auth/tokens", "iam_token"),
    ]

    def _route(self, request: Request) -> tuple[str, Any, tuple[str, ...]]:
        for method, pattern, name in self._ROUTES:
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                return name, getattr(self, f"_{name}"), tuple(unquote(v) for v in match.groups())
        raise ApiError(404, "APIGW.0101", "The API does not exist or has not been published in the environment.")

    def _authenticate(self, request: Request, service: str) -> None:
        headers = request.headers
        # APIG checks an AK/SK signature before any service sees the call, so a bad one gets the
        # same answer on every service. The seed's CC.00000003 "Authentication information
        # expired." is kept for what it says: an expired (or unknown) token on a Check call.
        unauthorized = ApiError(401, "APIGW.0301", "Incorrect IAM authentication information: {}")
        if "x-auth-token" in headers:
            expires = self.tokens.get(headers["x-auth-token"])
            if expires is None or time.time() >= expires:
                if service == "check":
                    raise ApiError(401, "CC.00000003", "Authentication information expired.")
                raise _detail(unauthorized, "token is invalid or expired")
            return
        match = _AUTH_RE.fullmatch(headers.get("authorization", "").strip())
        if not match:
            raise _detail(unauthorized, "Authorization header is missing or not SDK-HMAC-SHA256")
        access, signed_names, signature = match.groups()
        if access not in self.keys:
            raise _detail(unauthorized, "access key does not exist")
        secret, security_token = self.keys[access]
        if security_token is not None and headers.get("x-security-token") != security_token:
            raise _detail(unauthorized, "security token is missing or wrong")
        names = signed_names.split(";")
        if "host" not in names or "x-sdk-date" not in names or any(n not in headers for n in names):
            raise _detail(unauthorized, "SignedHeaders must include host and x-sdk-date, all present")
        try:
            signed_at = datetime.strptime(headers["x-sdk-date"], signer.DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise _detail(unauthorized, "X-Sdk-Date is malformed") from None
        if abs(datetime.now(UTC) - signed_at) > SIGNATURE_MAX_AGE:
            raise _detail(unauthorized, "signature expired (X-Sdk-Date more than 15 minutes off)")
        expected = signer.sign(
            method=request.method,
            path=request.path,
            query=request.query,
            headers={name: headers[name] for name in names},
            body=request.body,
            ak=access,
            sk=secret,
        )
        if not hmac.compare_digest(expected.rsplit("Signature=", 1)[1], signature):
            raise _detail(unauthorized, "verify aksk signature fail")
        if "x-project-id" in headers and headers["x-project-id"] != self.project_id:
            raise _detail(unauthorized, "X-Project-Id does not match the credentials")

    # -- helpers -----------------------------------------------------------------------

    def _project(self, project_id: str, code: str) -> None:
        if project_id != self.project_id:
            raise ApiError(400, code, f"The project {project_id} does not exist.")

    def _workspace(self, request: Request, required: bool) -> str | None:
        workspace = request.headers.get("workspace")
        if workspace is None:
            if required:
                raise ApiError(400, "DQC.1001", "The workspace header is missing.")
            return None
        if workspace not in self.workspaces:
            raise ApiError(400, "DQC.1002" if required else "DLF.0104", f"The workspace {workspace} does not exist.")
        return workspace

    @staticmethod
    def _json(request: Request, code: str, *, optional: bool = False) -> dict[str, Any]:
        if not request.body and optional:
            return {}
        try:
            data = json.loads(request.body)
        except ValueError:
            raise ApiError(400, code, "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ApiError(400, code, "The request body must be a JSON object.")
        return data

    def _new_instance(self, rule: Rule, *, start_ms: int, duration: float, outcome: str) -> Instance:
        # 19-digit ids like the real service's: beyond float precision, so a client that
        # parses them as floats cannot find its instance.
        instance_id = (start_ms << 22) + next(self._ids)
        instance = Instance(
            instance_id, rule.rule_id, rule.name, TASK_TYPES[rule.rule_type], start_ms, duration, outcome
        )
        self.instances[instance_id] = instance
        bisect.insort(self._by_start, (start_ms, instance_id))
        return instance

    def _instance(self, instance_id: str) -> Instance:
        instance = self.instances.get(int(instance_id)) if instance_id.isdigit() else None
        if instance is None:
            raise ApiError(400, "DQC.1006", f"The instance {instance_id} does not exist.")
        return instance

    # -- DataArts Quality --------------------------------------------------------------

    def _quality_action(self, request: Request, project_id: str) -> Response:
        self._project(project_id, "DQC.1003")
        self._workspace(request, required=True)
        body = self._json(request, "DQC.1004")
        if body.get("action") not in ("start", "stop"):
            raise ApiError(400, "DQC.1004", "action must be start or stop.")
        rule_id = body.get("rule_id")
        if not isinstance(rule_id, str):
            raise ApiError(400, "DQC.1004", "rule_id must be a string.")
        rule = self.rules.get(rule_id)
        if rule is None:
            raise ApiError(400, "DQC.1005", f"The quality job {rule_id} does not exist.")
        rule.scheduling = "started" if body["action"] == "start" else "stopped"
        return Response(200, {"message": f"Scheduling of quality job {rule_id} {rule.scheduling}."})

    def _quality_rerun(self, request: Request, project_id: str) -> Response:
        self._project(project_id, "DQC.1003")
        self._workspace(request, required=True)
        body = self._json(request, "DQC.1004")
        rule_type, rule_id = body.get("rule_type"), body.get("rule_id")
        if rule_type not in (1, 2) or isinstance(rule_type, bool):
            raise ApiError(400, "DQC.1004", "rule_type must be 1 or 2.")
        if not isinstance(rule_id, str):
            raise ApiError(400, "DQC.1004", "rule_id must be a string.")
        rule = self.rules.get(rule_id)
        if rule is None or rule.rule_type != rule_type:
            kind = "comparison" if rule_type == 2 else "quality"
            raise ApiError(400, "DQC.1005", f"The {kind} job {rule_id} does not exist.")
        outcome = rule.outcomes[rule.reruns % len(rule.outcomes)]
        rule.reruns += 1
        instance = self._new_instance(rule, start_ms=_now_ms(), duration=rule.duration, outcome=outcome)
        return Response(200, {"instance_id": str(instance.id)})

    def _quality_list(self, request: Request, project_id: str) -> Response:
        self._project(project_id, "DQC.1003")
        self._workspace(request, required=True)
        query = dict(request.query)
        try:
            limit = int(query.get("limit", 10))
            offset = int(query.get("offset", 0))
            start = int(query["start_time"]) if "start_time" in query else None
            end = int(query["end_time"]) if "end_time" in query else None
        except ValueError:
            raise ApiError(400, "DQC.1004", "limit, offset, start_time and end_time must be integers.") from None
        if not 1 <= limit <= 100 or offset < 0:
            raise ApiError(400, "DQC.1004", "limit must be 1 to 100 and offset not negative.")
        now = _now_ms()
        low = 0 if start is None else bisect.bisect_left(self._by_start, (start, -1))
        high = len(self._by_start) if end is None else bisect.bisect_right(self._by_start, (end, float("inf")))
        candidates = (self.instances[i] for _, i in reversed(self._by_start[low:high]))  # newest first
        rows = [
            instance.summary(now)
            for instance in candidates
            if query.get("task_type") in (None, instance.task_type)
            and (query.get("name") is None or query["name"] in instance.name)
        ]
        for key in ("run_status", "notify_status"):
            if key in query:
                rows = [row for row in rows if row[key] == query[key]]
        return Response(200, {"count": len(rows), "resources": rows[offset : offset + limit]})

    def _quality_result(self, request: Request, project_id: str, instance_id: str) -> Response:
        self._project(project_id, "DQC.1003")
        self._workspace(request, required=True)
        instance = self._instance(instance_id)
        status = instance.run_status(_now_ms())
        if status not in TERMINAL:
            return Response(200, {"count": 0, "resources": []})
        resources = [
            {
                "sub_rule_id": f"{instance.rule_id}-{n}",
                "sub_instance_instance_id": f"{instance.id}-{n}",
                "abnormal_table_status": "SUCCESS",
                "results": [
                    {
                        "rule_name": f"{instance.name} check {n}",
                        "alarm": status == "ALARMING" and n == 1,
                        "status": "FAILED" if status == "FAILED" and n == 1 else "SUCCESS",
                    }
                ],
            }
            for n in (1, 2)
        ]
        return Response(200, {"count": len(resources), "resources": resources})

    def _quality_cancel(self, request: Request, project_id: str, instance_id: str) -> Response:
        self._project(project_id, "DQC.1003")
        self._workspace(request, required=True)
        body = self._json(request, "DQC.1004")
        if not isinstance(body.get("cancel_run"), bool):
            raise ApiError(400, "DQC.1004", "cancel_run must be a boolean.")
        instance = self._instance(instance_id)
        # The page: false means cancel, true means do not cancel.
        if body["cancel_run"] is False:
            now = _now_ms()
            if instance.run_status(now) in TERMINAL:
                raise ApiError(400, "DQC.1007", f"The instance {instance_id} is not running.")
            instance.cancelled_ms = now
        return Response(200, {})

    # -- DataArts Factory --------------------------------------------------------------

    def _job(self, request: Request, project_id: str, name: str) -> Job:
        self._project(project_id, "DLF.0103")
        workspace = self._workspace(request, required=False)
        job = self.jobs.get(name)
        if job is None:
            raise ApiError(400, "DLF.0100", "The job does not exists.")
        job.workspace = workspace
        return job

    def _factory_start(self, request: Request, project_id: str, name: str) -> Response:
        job = self._job(request, project_id, name)
        params = self._json(request, "DLF.0101", optional=True).get("jobParams", [])
        valid = isinstance(params, list) and all(
            isinstance(p, dict)
            and set(p) == {"name", "value"}
            and isinstance(p["name"], str)
            and isinstance(p["value"], str)
            and 0 < len(p["name"]) <= 64
            and len(p["value"]) <= 1024
            for p in params
        )
        if not valid:
            raise ApiError(400, "DLF.0101", "jobParams must be a list of {name, value} strings (64/1024 chars).")
        job.state, job.starts, job.last_params = "RUNNING", job.starts + 1, params
        return Response(204)

    def _factory_stop(self, request: Request, project_id: str, name: str) -> Response:
        job = self._job(request, project_id, name)
        job.state, job.stops = "STOPPED", job.stops + 1
        return Response(204)

    # -- CodeArts Check ----------------------------------------------------------------

    def _check_stop(self, request: Request, task_id: str) -> Response:
        if task_id not in self.check_tasks:
            raise ApiError(400, "CC.00000002", f"The task {task_id} does not exist.")
        self.check_tasks[task_id] = "STOPPED"
        return Response(200, None)

    # -- IAM -----------------------------------------------------------------------------

    def _iam_token(self, request: Request) -> Response:
        try:
            identity = self._json(request, "IAM.0001")["auth"]["identity"]
            user = identity["password"]["user"]
            key = (user["domain"]["name"], user["name"])
            password = user["password"]
        except (KeyError, TypeError, ApiError):
            return Response(
                400, {"error": {"code": 400, "message": "The request body is invalid.", "title": "Bad Request"}}
            )
        if not hmac.compare_digest(self.users.get(key, "\0"), password):
            return Response(
                401, {"error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}}
            )
        token = "MII" + secrets.token_urlsafe(48)
        expires = time.time() + self.token_ttl
        self.tokens[token] = expires
        expires_at = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return Response(
            201, {"token": {"expires_at": expires_at, "methods": ["password"]}}, headers={"X-Subject-Token": token}
        )


def _detail(error: ApiError, detail: str) -> ApiError:
    body = error.response.body
    return ApiError(error.response.status, body["error_code"], body["error_msg"].format(detail))


def _now_ms() -> int:
    return int(time.time() * 1000)

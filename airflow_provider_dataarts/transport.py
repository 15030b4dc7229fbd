"""How a DataArts call travels: endpoints, authentication, timeouts, retries, errors.

:class:`ConnectionConfig` reads an Airflow connection once and checks it.
:class:`Transport` sends a :class:`Call` over one reused ``requests.Session`` (sync)
or a per-event-loop ``httpcore`` connection pool (async), signing it or attaching an IAM
token, retrying what is safe to retry, and turning failures into
:class:`~airflow_provider_dataarts.exceptions.DataArtsApiError`.

Nothing here imports Airflow operators; heavy libraries (requests, httpcore,
tenacity) are imported on first use so that parsing a DAG stays cheap.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from airflow_provider_dataarts import signer, validation
from airflow_provider_dataarts.exceptions import DataArtsApiError, DataArtsInputError

if TYPE_CHECKING:
    import ssl

    import httpcore
    import requests

log = logging.getLogger(__name__)

SERVICES = ("quality", "factory", "check", "iam")
DEFAULT_ENDPOINTS = {
    "quality": "https://dayu.{region}.myhuaweicloud.com",
    "factory": "https://dayu-dlf.{region}.myhuaweicloud.com",
    "check": "https://codecheck-ext.{region}.myhuaweicloud.com",
    "iam": "https://iam.{region}.myhuaweicloud.com",
}
# Regions of DataArts Studio, as listed by huaweicloudsdkdataartsstudio's region table.
KNOWN_REGIONS = frozenset(
    "cn-north-1 cn-north-2 cn-north-4 cn-north-9 cn-north-11 cn-east-2 cn-east-3 cn-east-4 "
    "cn-south-1 cn-southwest-2 ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 "
    "af-south-1 ru-northwest-2 ru-moscow-1 sa-brazil-1 la-south-2 la-north-2 na-mexico-1 "
    "tr-west-1 me-east-1 eu-west-101 ae-ad-1 my-kualalumpur-1".split()
)
AUTH_TYPES = ("aksk", "password", "token")
DEFAULT_TIMEOUT = (10.0, 60.0)  # seconds: connect, read
# The workspace header: mandatory for DataArts Quality, optional for Factory, unknown to Check.
WORKSPACE_HEADER = {"quality": True, "factory": False}
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Answers that prove the server did not act on the request, so a call that starts
# something may be sent again after them.
NOT_PROCESSED_STATUSES = frozenset({429, 503})


def _extra(extra: Mapping[str, Any], name: str) -> Any:
    # Airflow 2.11's connection form stores custom fields as extra__<type>__<name>.
    value = extra.get(name)
    if value in (None, ""):
        value = extra.get(f"extra__dataarts__{name}")
    return None if value == "" else value


def _json_field(name: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise DataArtsInputError(f"extra.{name} must be a JSON object, got a string that is not JSON") from None
    return value


def _base_url(name: str, value: Any, port: int | None = None) -> str:
    """``value`` as a base URL; ``port`` (a connection's Port field) fills in a port the URL lacks.

    A scheme is required rather than guessed: guessing https for an http server (the emulator)
    hangs until the read timeout, guessing http for Huawei's endpoints would send credentials
    in clear.
    """
    if not isinstance(value, str) or not value.strip():
        raise DataArtsInputError(f"{name} must be a URL such as https://host[:port], got {value!r}")
    url = value.strip().rstrip("/")
    if "://" not in url:
        where = f"{url}:{port}" if port else url
        raise DataArtsInputError(
            f"{name} must start with http:// or https://, got {value!r}: write it as https://{where} "
            f"(or http://{where} for a plain-HTTP server such as the emulator); in a connection URI the "
            f"scheme goes after the connection type: dataarts://http://AK:SK@{where}?..."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise DataArtsInputError(f"{name} must be a URL such as https://host[:port], got {value!r}")
    if port and parts.port is None:
        url = urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))
    elif port and parts.port != port:
        raise DataArtsInputError(f"{name} {value!r} names port {parts.port} but the connection's port is {port}")
    return url


def _timeout(value: Any) -> tuple[float, float]:
    # One number for both, or [connect, read]; the UI form gives either as a string.
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
        pair = tuple(map(float, parsed)) if isinstance(parsed, (list, tuple)) else (float(parsed),) * 2
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2 or min(pair) <= 0:
        raise DataArtsInputError(
            f"extra.timeout must be a positive number of seconds or [connect, read], got {value!r}"
        )
    return pair  # type: ignore[return-value]


def _verify(value: Any) -> bool | str:
    if value is None:
        return True
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and os.path.exists(value):
        return value
    raise DataArtsInputError(f"extra.verify must be true, false or the path of a CA bundle that exists, got {value!r}")


class Secret(str):
    """A credential as a string that prints as ``'***'`` in any ``repr``.

    Tracebacks that show local variables, and the dicts of headers they hold, render values
    through ``repr``; the request itself sends the real characters.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"


@dataclass(frozen=True)
class ConnectionConfig:
    """Everything a call needs from the Airflow connection, read and checked once.

    Secrets are excluded from ``repr``.
    """

    auth_type: str
    login: str | None
    secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    domain_name: str | None = None
    region: str | None = None
    project_id: str | None = None
    workspace: str | None = None
    host: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)
    verify: bool | str = True
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    proxies: Mapping[str, str] | None = field(default=None, repr=False)  # may carry a proxy password

    @classmethod
    def from_connection(
        cls,
        conn: Any,
        *,
        region: str | None = None,
        project_id: str | None = None,
        workspace: str | None = None,
    ) -> ConnectionConfig:
        """Build the config from an Airflow ``Connection``; arguments override its extras.

        :raises ValueError: naming the field and the rule when the connection is unusable.
        """
        try:
            extra = json.loads(conn.extra) if conn.extra else {}
        except ValueError:
            raise DataArtsInputError(f"connection {conn.conn_id!r}: extra is not valid JSON") from None
        if not isinstance(extra, dict):
            raise DataArtsInputError(f"connection {conn.conn_id!r}: extra must be a JSON object")
        auth_type = (_extra(extra, "auth_type") or "aksk").strip().lower()
        if auth_type not in AUTH_TYPES:
            raise DataArtsInputError(f"extra.auth_type must be one of {', '.join(AUTH_TYPES)}, got {auth_type!r}")
        security_token = _extra(extra, "security_token")
        if security_token and auth_type != "aksk":
            raise DataArtsInputError("extra.security_token goes with auth_type 'aksk' (temporary AK/SK) only")
        required = {"aksk": ("login", "password"), "password": ("login", "password"), "token": ("password",)}
        labels = {
            "aksk": {"login": "login (Access Key)", "password": "password (Secret Key)"},
            "password": {"login": "login (IAM user name)", "password": "password (IAM password)"},
            "token": {"password": "password (the IAM token)"},
        }[auth_type]
        for name in required[auth_type]:
            if not getattr(conn, name, None):
                raise DataArtsInputError(
                    f"connection {conn.conn_id!r}: {labels[name]} is required for auth_type {auth_type!r}"
                )
        domain_name = _extra(extra, "domain_name")
        config = cls(
            auth_type=auth_type,
            login=conn.login or None,
            secret=Secret(conn.password) if conn.password else conn.password,
            security_token=Secret(security_token) if security_token else security_token,
            domain_name=domain_name,
            region=region or _extra(extra, "region"),
            project_id=project_id or _extra(extra, "project_id"),
            workspace=workspace or _extra(extra, "workspace"),
            host=_base_url("connection host", conn.host, getattr(conn, "port", None)) if conn.host else None,
            endpoints=cls._endpoints(_extra(extra, "endpoints")),
            verify=_verify(_extra(extra, "verify")),
            timeout=_timeout(_extra(extra, "timeout")),
            proxies=_json_field("proxies", _extra(extra, "proxies")),
        )
        for name in ("project_id", "workspace"):
            if getattr(config, name) is not None:
                validation.identifier(name, getattr(config, name))
        if config.region is not None and not isinstance(config.region, str):
            raise DataArtsInputError(f"region must be a string, got {config.region!r}")
        if config.proxies is not None and not isinstance(config.proxies, Mapping):
            raise DataArtsInputError('extra.proxies must be an object such as {"https": "http://proxy:3128"}')
        if auth_type == "password":
            if not domain_name:
                raise DataArtsInputError("extra.domain_name (the account name) is required for auth_type 'password'")
            if not config.project_id:
                raise DataArtsInputError(
                    "project_id is required for auth_type 'password' (the token is project-scoped)"
                )
        return config

    @staticmethod
    def _endpoints(value: Any) -> dict[str, str]:
        value = _json_field("endpoints", value) or {}
        if not isinstance(value, Mapping):
            raise DataArtsInputError('extra.endpoints must be an object such as {"quality": "https://..."}')
        unknown = set(value) - set(SERVICES)
        if unknown:
            raise DataArtsInputError(f"extra.endpoints keys must be among {', '.join(SERVICES)}, got {sorted(unknown)}")
        return {name: _base_url(f"extra.endpoints.{name}", url) for name, url in value.items()}

    def endpoint(self, service: str) -> str:
        """Base URL for ``service``: ``endpoints`` extra, else ``host``, else the region's default."""
        if service in self.endpoints:
            return self.endpoints[service]
        if self.host:
            return self.host
        if not self.region:
            raise DataArtsInputError(
                f"no endpoint for DataArts {service}: set region (extra.region or the region argument), "
                "the connection host, or extra.endpoints"
            )
        if self.region not in KNOWN_REGIONS:
            raise DataArtsInputError(
                f"region {self.region!r} is not a known DataArts Studio region; "
                f"set extra.endpoints.{service} or the connection host for it"
            )
        return DEFAULT_ENDPOINTS[service].format(region=self.region)

    def secrets(self) -> list[str]:
        """Values to register with Airflow's secrets masker."""
        proxy_passwords = [urlsplit(url).password or "" for url in (self.proxies or {}).values()]
        proxy_passwords += [unquote(password) for password in proxy_passwords]  # as written and as sent
        return [value for value in (self.secret, self.security_token, *proxy_passwords) if value]


@dataclass(frozen=True)
class Call:
    """One API call, independent of how it is sent.

    :param idempotent: ``False`` for calls that start something (rerun, job start):
        those are sent again only when the server provably did not act on them.
    """

    service: str
    method: str
    path: str
    query: tuple[tuple[str, Any], ...] = ()
    body: Any = None
    idempotent: bool = True

    @classmethod
    def build(cls, service: str, method: str, template: str, *values: str, **kwargs: Any) -> Call:
        """Fill ``{}`` placeholders of ``template`` with percent-encoded ``values``."""
        return cls(service, method, template.format(*(quote(v, safe="") for v in values)), **kwargs)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    data: Any


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with full jitter; ``Retry-After`` wins when the server sends it.

    :param attempts: tries per call, the first included.
    :param delay: base wait in seconds before the second try.
    :param max_delay: cap of any single wait, seconds (also caps ``Retry-After``).
    """

    attempts: int = 5
    delay: float = 1.0
    max_delay: float = 30.0

    def wait(self, retry_state: Any) -> float:
        error = retry_state.outcome.exception()
        if getattr(error, "retry_after", None) is not None:
            return min(error.retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.delay * 2 ** (retry_state.attempt_number - 1))
        return random.uniform(ceiling / 2, ceiling)

    @staticmethod
    def should_retry(error: BaseException, idempotent: bool) -> bool:
        if not isinstance(error, DataArtsApiError):
            return False
        if error.status is None:
            return error.transient and (idempotent or not error.reached_server)
        return error.status in RETRY_STATUSES and (idempotent or error.status in NOT_PROCESSED_STATUSES)

    def tenacity_kwargs(self, call: Call) -> dict[str, Any]:
        import tenacity

        def before_sleep(state: Any) -> None:
            log.warning(
                "%s; retrying in %.1f s (attempt %d of %d)",
                state.outcome.exception(),
                state.next_action.sleep,
                state.attempt_number + 1,
                self.attempts,
            )

        return {
            "stop": tenacity.stop_after_attempt(self.attempts),
            "wait": self.wait,
            "retry": tenacity.retry_if_exception(lambda e: self.should_retry(e, call.idempotent)),
            "reraise": True,
            "before_sleep": before_sleep,
        }


def _error_fields(data: Any) -> tuple[str | None, str | None]:
    if isinstance(data, Mapping):
        if "error_code" in data or "error_msg" in data:
            return data.get("error_code"), data.get("error_msg")
        inner = data.get("error")
        if isinstance(inner, Mapping):  # IAM: {"error": {"code": 401, "message": ...}}
            return str(inner.get("code")) if inner.get("code") is not None else None, inner.get("message")
    return None, None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


#: An answer as it came: status, headers, body.
Answer = tuple[int, Mapping[str, str], bytes]


def _parse(call: Call, status: int, headers: Mapping[str, str], content: bytes) -> Reply:
    text = content.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
        if status < 400:
            raise DataArtsApiError(
                service=call.service,
                method=call.method,
                path=call.path,
                status=status,
                error_msg=f"the answer is not valid JSON: {' '.join(text.split())[:200]!r}",
            ) from None
    if status >= 400:
        code, msg = _error_fields(data)
        raise DataArtsApiError.create(
            service=call.service,
            method=call.method,
            path=call.path,
            status=status,
            error_code=code,
            error_msg=msg or " ".join(text.split())[:200] or None,
            retry_after=_retry_after(headers.get("Retry-After")),
        )
    return Reply(status, headers, data)


def _no_answer(call: Call, error: Exception, *, reached_server: bool) -> DataArtsApiError:
    if "CERTIFICATE_VERIFY_FAILED" in str(error):  # both requests and httpcore say so; retrying cannot help
        return DataArtsApiError.create(
            service=call.service,
            method=call.method,
            path=call.path,
            transient=False,
            error_msg="TLS certificate verification failed; set extra.verify to the CA bundle that signed it "
            f"({type(error).__name__}: {error})",
        )
    return DataArtsApiError(
        service=call.service,
        method=call.method,
        path=call.path,
        error_msg=f"{type(error).__name__}: {error}",
        reached_server=reached_server,
    )


def _requests_not_reached(error: Exception) -> bool:
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


def _iam_body(config: ConnectionConfig) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": config.login,
                        "password": config.secret,
                        "domain": {"name": config.domain_name},
                    }
                },
            },
            "scope": {"project": {"id": config.project_id}},
        }
    }


class _TokenCache:
    """IAM tokens shared by every hook in the process, keyed by the credentials that made them."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._inflight: weakref.WeakKeyDictionary[Any, dict[str, asyncio.Task]] = weakref.WeakKeyDictionary()

    @staticmethod
    def key(config: ConnectionConfig) -> str:
        material = "\0".join(
            [
                config.endpoint("iam"),
                config.domain_name or "",
                config.login or "",
                config.secret,
                config.project_id or "",
            ]
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, key: str) -> str | None:
        entry = self._tokens.get(key)
        return entry[0] if entry and time.time() < entry[1] else None

    def put(self, key: str, reply: Reply) -> str:
        from airflow_provider_dataarts._compat import mask_secret

        token = Secret(reply.headers.get("X-Subject-Token") or "")
        if not token:
            raise DataArtsApiError(
                service="iam",
                method="POST",
                path="/v3/auth/tokens",
                status=reply.status,
                error_msg="the IAM answer has no X-Subject-Token header",
            )
        expires_at = time.time() + 3600.0
        try:
            raw = reply.data["token"]["expires_at"]
            expires_at = datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
        except (KeyError, TypeError, ValueError):
            log.warning("IAM token answer has no readable expires_at; assuming one hour")
        mask_secret(token)
        lifetime = max(0.0, expires_at - time.time())
        # Refresh shortly before expiry: five minutes, or a tenth of a short lifetime.
        self._tokens[key] = (token, expires_at - min(300.0, lifetime / 10))
        return token

    def drop(self, key: str, token: str) -> None:
        with self._lock:
            if self._tokens.get(key, ("",))[0] == token:
                del self._tokens[key]


TOKENS = _TokenCache()
# One connection pool per event loop (the triggerer has one loop for all its triggers) and origin,
# so an endpoint that hangs holds only its own slots; keyed by TLS settings and proxy too.
# httpcore rather than httpx: a poll is one small signed GET, and httpx's per-request URL,
# cookie and model work cost about as much CPU as the HTTP exchange itself.
_ASYNC_POOLS: weakref.WeakKeyDictionary[Any, dict[tuple, tuple[httpcore.AsyncConnectionPool, asyncio.Semaphore]]] = (
    weakref.WeakKeyDictionary()
)
# httpcore's pool does work proportional to its queue for every request it assigns, so a burst
# of a thousand polls costs twice the CPU per request; excess requests wait here instead.
ASYNC_IN_FLIGHT = 4


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The TLS settings of a sync call, for the async pool: the same CA bundle requests uses."""
    import ssl

    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if verify is True:
        from requests.utils import DEFAULT_CA_BUNDLE_PATH as verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def _httpcore_proxy(url: str) -> httpcore.Proxy:
    import httpcore
    from requests.utils import get_auth_from_url, urldefragauth

    auth = get_auth_from_url(url)  # decoded, as requests sends it
    return httpcore.Proxy(urldefragauth(url), auth=auth if any(auth) else None)


@functools.cache
def _user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"airflow-provider-dataarts/{version('airflow-provider-dataarts')}"
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "airflow-provider-dataarts"


class Transport:
    """Sends :class:`Call` objects for one connection; sync and async share every rule."""

    def __init__(self, config: ConnectionConfig, retry: RetryPolicy | None = None) -> None:
        self.config = config
        self.retry = retry or RetryPolicy()
        self._session: requests.Session | None = None
        self._environments: dict[str, tuple[dict[str, str], bool | str, str | None]] = {}

    def __repr__(self) -> str:
        return f"Transport({self.config!r}, {self.retry!r})"

    # -- request preparation (shared) ------------------------------------------------

    def _prepare(self, call: Call, token: str | None) -> tuple[str, dict[str, str], bytes]:
        config = self.config
        base = urlsplit(config.endpoint(call.service))
        path = base.path + call.path
        body = b"" if call.body is None else json.dumps(call.body, separators=(",", ":")).encode()
        headers = {"Host": base.netloc, "Content-Type": "application/json", "User-Agent": _user_agent()}
        if call.service in WORKSPACE_HEADER:
            if config.workspace:
                headers["workspace"] = config.workspace
            elif WORKSPACE_HEADER[call.service]:
                raise DataArtsInputError(
                    f"workspace is required for DataArts {call.service} calls: "
                    "set extra.workspace or the workspace argument"
                )
        if call.service != "iam":
            if config.auth_type == "aksk":
                headers["X-Sdk-Date"] = signer.sdk_date()
                if config.project_id:
                    headers["X-Project-Id"] = config.project_id
                if config.security_token:
                    headers["X-Security-Token"] = config.security_token
                headers["Authorization"] = signer.sign(
                    method=call.method,
                    path=path,
                    query=call.query,
                    headers=headers,
                    body=body,
                    ak=config.login or "",
                    sk=config.secret,
                )
            else:
                headers["X-Auth-Token"] = token or ""
        query = signer.canonical_query(call.query)
        url = f"{base.scheme}://{base.netloc}{path}" + (f"?{query}" if query else "")
        return url, headers, body

    def _iam_call(self) -> Call:
        return Call("iam", "POST", "/v3/auth/tokens", body=_iam_body(self.config))

    # -- sync ------------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """The ``requests.Session`` reused by every sync call of this transport."""
        if self._session is None:
            import requests

            session = requests.Session()
            # Left on, requests re-reads the whole environment (proxies, CA bundle) on every
            # call, which costs about as much CPU as the rest of the call: _environment() reads
            # it once per endpoint instead.
            session.trust_env = False
            self._session = session
        return self._session

    def _environment(self, url: str) -> tuple[dict[str, str], bool | str, str | None]:
        """Proxies, TLS verification and the proxy for ``url``'s origin: the connection's settings,
        else the environment's (read once per origin; sync and async calls share them)."""
        key = "/".join(url.split("/", 3)[:3])
        if key not in self._environments:
            from requests.utils import get_environ_proxies, select_proxy

            proxies = {**get_environ_proxies(key), **(self.config.proxies or {})}
            verify = self.config.verify
            if verify is True:
                verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            self._environments[key] = (proxies, verify, select_proxy(key, proxies))
        return self._environments[key]

    def _send_once(self, call: Call, token: str | None = None) -> Reply:
        answer = self._exchange(call, token)
        if isinstance(answer, DataArtsApiError):
            raise answer
        return _parse(call, *answer)

    def _exchange(self, call: Call, token: str | None) -> Answer | DataArtsApiError:
        """Send ``call`` once: its raw answer, or the error for no answer.

        The signed headers and bodies (an IAM body holds the password) live only in this frame,
        which has returned before anything is raised: a traceback that shows local variables
        (Airflow 3.0's console log does) cannot carry them.
        """
        import requests

        url, headers, body = self._prepare(call, token)
        proxies, verify, _ = self._environment(url)
        prepared = requests.PreparedRequest()  # no session defaults or cookies to merge: all headers are ours
        prepared.prepare(method=call.method, url=url, headers=headers, data=body)
        started = time.monotonic()
        try:
            response = self.session.send(
                prepared, timeout=self.config.timeout, verify=verify, proxies=proxies, allow_redirects=False
            )
        except requests.RequestException as error:
            return _no_answer(call, error, reached_server=not _requests_not_reached(error))
        log.debug(
            "%s %s -> %s in %.0f ms", call.method, call.path, response.status_code, (time.monotonic() - started) * 1000
        )
        return response.status_code, response.headers, response.content

    def _token(self, refresh_from: str | None = None) -> str | None:
        if self.config.auth_type == "token":
            return self.config.secret
        if self.config.auth_type != "password":
            return None
        key = TOKENS.key(self.config)
        if refresh_from:
            TOKENS.drop(key, refresh_from)
        with TOKENS._lock:
            token = TOKENS.get(key)
            if token is None:
                token = TOKENS.put(key, self._with_retries(self._iam_call(), None))
        return token

    def _with_retries(self, call: Call, token: str | None) -> Reply:
        import tenacity

        for attempt in tenacity.Retrying(**self.retry.tenacity_kwargs(call)):
            with attempt:
                return self._send_once(call, token)
        raise AssertionError("unreachable")  # pragma: no cover

    def request(self, call: Call) -> Any:
        """Send ``call`` and return the decoded JSON answer (``None`` for an empty body)."""
        token = self._token()
        try:
            return self._with_retries(call, token).data
        except DataArtsApiError as error:
            if error.status != 401 or self.config.auth_type != "password":
                raise
            log.info("IAM token refused (HTTP 401); fetching a new one and trying once more")
            return self._with_retries(call, self._token(refresh_from=token)).data

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- async -----------------------------------------------------------------------

    def _async_pool(self, url: str) -> tuple[httpcore.AsyncConnectionPool, asyncio.Semaphore]:
        import httpcore

        origin = "/".join(url.split("/", 3)[:3])
        _, verify, proxy = self._environment(origin)  # the same proxy and TLS rules as sync calls
        pools = _ASYNC_POOLS.setdefault(asyncio.get_running_loop(), {})
        key = (origin, verify, proxy)
        if key not in pools:
            if verify is False and url.startswith("https:"):  # said out loud, as urllib3 does for sync calls
                log.warning("TLS certificate verification is off (extra.verify=false) for %s", origin)
            pool = httpcore.AsyncConnectionPool(
                ssl_context=_ssl_context(verify),
                proxy=_httpcore_proxy(proxy) if proxy else None,
                max_connections=ASYNC_IN_FLIGHT,
            )
            pools[key] = (pool, asyncio.Semaphore(ASYNC_IN_FLIGHT))
        return pools[key]

    async def _asend_once(self, call: Call, token: str | None = None) -> Reply:
        answer = await self._aexchange(call, token)
        if isinstance(answer, DataArtsApiError):
            raise answer
        return _parse(call, *answer)

    async def _aexchange(self, call: Call, token: str | None) -> Answer | DataArtsApiError:
        """The async :meth:`_exchange`: secrets stay in a frame that has returned before any raise."""
        import httpcore
        from requests.structures import CaseInsensitiveDict

        url, headers, body = self._prepare(call, token)
        connect, read = self.config.timeout
        pool, slots = self._async_pool(url)
        try:
            async with slots:
                response = await pool.request(
                    call.method,
                    url,
                    headers=list(headers.items()),
                    content=body,
                    extensions={"timeout": {"connect": connect, "read": read, "write": read, "pool": read}},
                )
        except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError) as error:
            not_reached = isinstance(error, (httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.PoolTimeout))
            return _no_answer(call, error, reached_server=not not_reached)
        answer_headers = CaseInsensitiveDict((k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers)
        return response.status, answer_headers, response.content

    async def _awith_retries(self, call: Call, token: str | None) -> Reply:
        import tenacity

        async for attempt in tenacity.AsyncRetrying(**self.retry.tenacity_kwargs(call)):
            with attempt:
                return await self._asend_once(call, token)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _atoken(self, refresh_from: str | None = None) -> str | None:
        if self.config.auth_type != "password":
            return self._token()
        key = TOKENS.key(self.config)
        if refresh_from:
            TOKENS.drop(key, refresh_from)
        token = TOKENS.get(key)
        if token is not None:
            return token
        # One IAM request per key and event loop, however many triggers ask at once.
        inflight = TOKENS._inflight.setdefault(asyncio.get_running_loop(), {})
        if key not in inflight:

            async def fetch() -> str:
                try:
                    return TOKENS.put(key, await self._awith_retries(self._iam_call(), None))
                finally:
                    inflight.pop(key, None)

            inflight[key] = asyncio.ensure_future(fetch())
        return await asyncio.shield(inflight[key])

    async def arequest(self, call: Call) -> Any:
        """Async twin of :meth:`request`."""
        token = await self._atoken()
        try:
            return (await self._awith_retries(call, token)).data
        except DataArtsApiError as error:
            if error.status != 401 or self.config.auth_type != "password":
                raise
            log.info("IAM token refused (HTTP 401); fetching a new one and trying once more")
            return (await self._awith_retries(call, await self._atoken(refresh_from=token))).data

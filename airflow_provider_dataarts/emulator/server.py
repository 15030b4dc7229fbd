"""A small asyncio HTTP/1.1 server in front of :class:`DataArtsService`.

One event loop serves every connection, so a thousand concurrent keep-alive
clients cost a thousand sockets, not a thousand threads. Each answer is written
with a single ``write`` and ``TCP_NODELAY`` is set, which keeps a keep-alive
round trip on loopback well under a millisecond (no Nagle / delayed-ACK stall).

Besides the emulated APIs it answers an unauthenticated control API under
``/_emulator/`` (state, request log, faults, rules, jobs, check tasks), used by
the demo and by tests that run the emulator in another process.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
from dataclasses import asdict, fields
from http import HTTPStatus
from typing import Any

from airflow_provider_dataarts.emulator.service import (
    DEFAULT_AK,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    DEFAULT_WORKSPACE,
    DataArtsService,
    EmulatorConfigError,
    Fault,
    Request,
    Response,
    demo_config,
)

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024
FAULT_FIELDS = {f.name for f in fields(Fault)} - {"hits", "passed"}


class _Drop(Exception):
    """Close the connection without answering."""


def connection_for(
    url: str,
    *,
    ak: str = DEFAULT_AK,
    sk: str = DEFAULT_SK,
    project_id: str = DEFAULT_PROJECT_ID,
    workspace: str = DEFAULT_WORKSPACE,
    **extra: Any,
) -> dict[str, Any]:
    """An Airflow connection (dict form) for an emulator at ``url``, by default one started
    with the documented defaults (``python -m airflow_provider_dataarts.emulator``)."""
    return {
        "conn_type": "dataarts",
        "login": ak,
        "password": sk,
        "host": url,
        "extra": {"region": "cn-north-4", "project_id": project_id, "workspace": workspace, **extra},
    }


class EmulatorServer:
    """Serves ``service`` on ``host:port`` (``port=0`` picks a free one) in the running event loop."""

    def __init__(
        self,
        service: DataArtsService,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.service = service
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.connections: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task] = set()
        self.peak_connections = 0
        self.accepted_connections = 0
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, ssl=self.ssl_context, limit=MAX_HEADER_BYTES, backlog=4096
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self.connections):
                # A TLS close waits for the client's close_notify, which an idle keep-alive client
                # never sends, and Python 3.12.1+ wait_closed() waits for every connection: abort.
                writer.transport.abort()  # each handler then sees EOF and ends by itself
            _, pending = await asyncio.wait(self._handlers, timeout=1) if self._handlers else (set(), set())
            for task in pending:  # still sleeping in an injected latency
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections.add(writer)
        self._handlers.add(asyncio.current_task())
        self.accepted_connections += 1
        self.peak_connections = max(self.peak_connections, len(self.connections))
        try:
            while True:
                request, keep_alive = await self._read(reader)
                if request is None:
                    break
                status, headers, body = await self._answer(request)
                writer.write(_encode(status, headers, body, keep_alive))
                await writer.drain()
                if not keep_alive:
                    break
        except (_Drop, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self.connections.discard(writer)
            self._handlers.discard(asyncio.current_task())
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[Request | None, bool]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None, False
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length > MAX_BODY_BYTES or "chunked" in headers.get("transfer-encoding", ""):
            raise ValueError("body too large or chunked")
        body = await reader.readexactly(length) if length else b""
        path, _, query = target.partition("?")
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
        return Request(method.upper(), path, query, headers, body), keep_alive

    async def _answer(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        if request.path.startswith("/_emulator/"):
            response = self._control(request)
            return response.status, response.headers, response.payload()
        fault = self.service.take_fault(request)
        if fault and fault.drop == "before":
            raise _Drop
        if fault and fault.status:
            body = (
                fault.body.encode()
                if fault.body is not None
                else json.dumps({"error_code": f"EMU.{fault.status}", "error_msg": "Injected fault."}).encode()
            )
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            self.service.log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query_string,
                    "status": fault.status,
                    "fault": True,
                }
            )
            return fault.status, headers, body
        response = self.service.handle(request)
        if fault and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault and fault.drop == "after":
            raise _Drop
        if fault and fault.malformed:
            return 200, {}, b'{"instance_id": "12'
        return response.status, response.headers, response.payload()

    def _control(self, request: Request) -> Response:
        service = self.service
        what = request.path[len("/_emulator/") :]
        data: Any = json.loads(request.body) if request.body else {}
        if request.method == "GET" and what == "state":
            return Response(
                200,
                {
                    **service.snapshot(),
                    "open_connections": len(self.connections),
                    "peak_connections": self.peak_connections,
                    "accepted_connections": self.accepted_connections,
                },
            )
        if request.method == "GET" and what == "log":
            with service.lock:
                return Response(200, list(service.log))
        if request.method == "POST" and what == "faults":
            unknown = set(data) - FAULT_FIELDS
            if unknown:
                return Response(400, {"error": f"unknown fault fields {sorted(unknown)}"})
            return Response(200, asdict(service.add_fault(**data)))
        if request.method == "DELETE" and what == "faults":
            service.clear_faults()
            return Response(200, {})
        if request.method == "POST" and what == "config":
            try:
                service.load(data)
            except EmulatorConfigError as error:
                return Response(400, {"error": f"config {error}"})
            return Response(200, {})
        return Response(404, {"error": f"no control endpoint {request.method} {request.path}"})


def _encode(status: int, headers: dict[str, str], body: bytes, keep_alive: bool) -> bytes:
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Unknown"
    lines = [
        f"HTTP/1.1 {status} {reason}",
        f"Content-Length: {len(body)}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    if body:
        lines.append("Content-Type: application/json;charset=UTF-8")
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Emulator:
    """The emulator in a background thread: a context manager for tests, demos and users' DAG tests.

    It starts with the demo set, as ``python -m airflow_provider_dataarts.emulator`` does: the
    rules, jobs, check task and IAM user the example DAGs use (``demo.json``).

    >>> with Emulator() as emulator:            # doctest: +SKIP
    ...     emulator.service.add_rule("1001", outcomes=["SUCCESS"], duration=0.5)
    ...     os.environ["AIRFLOW_CONN_DATAARTS_DEFAULT"] = emulator.connection_json()

    :param port: TCP port on 127.0.0.1; 0 picks a free one.
    :param demo: start with the demo set; ``False`` starts empty.
    :param config: more to load (see :meth:`DataArtsService.load`), added to the demo set.
    :param ssl_context: serve HTTPS with this context.
    :param service_kwargs: passed to :class:`DataArtsService` (credentials, users, token TTL...).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        demo: bool = True,
        config: dict[str, Any] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        **service_kwargs: Any,
    ) -> None:
        self.service = DataArtsService(**service_kwargs)
        for part in (demo_config() if demo else None, config):
            if part:
                self.service.load(part)
        self.server = EmulatorServer(self.service, port=port, ssl_context=ssl_context)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> Emulator:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="dataarts-emulator", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def open_connections(self) -> int:
        return len(self.server.connections)

    def connection(self, **extra: Any) -> dict[str, Any]:
        """An Airflow connection (dict form) that points ``dataarts`` at this emulator with AK/SK."""
        service = self.service
        ak, (sk, _) = next(iter(service.keys.items()))
        return connection_for(
            self.url, ak=ak, sk=sk, project_id=service.project_id, workspace=sorted(service.workspaces)[0], **extra
        )

    def connection_json(self, **extra: Any) -> str:
        """:meth:`connection` as the JSON an ``AIRFLOW_CONN_...`` environment variable takes."""
        return json.dumps(self.connection(**extra))

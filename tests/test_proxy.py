"""Proxies: extra.proxies (with credentials) and the environment's, the same for sync and async calls."""

from __future__ import annotations

import asyncio
import base64
import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from airflow_provider_dataarts.exceptions import DataArtsApiError
from airflow_provider_dataarts.hooks.dataarts import DataArtsHook
from tests.conftest import redact

USER, PASSWORD = "proxy-user", "p@ss:word"


class ForwardProxy(ThreadingHTTPServer):
    """A plain-HTTP forward proxy on 127.0.0.1 that asks for Basic credentials and records what it forwards."""

    daemon_threads = True

    def __init__(self, credentials: tuple[str, str] | None) -> None:
        self.expected = None
        if credentials:
            self.expected = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
        self.seen: list[tuple[str, str]] = []
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.expected and self.headers.get("Proxy-Authorization") != self.server.expected:
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.seen.append((self.command, self.path))  # absolute-form: http://host:port/path?query
        target = urlsplit(self.path)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "connection")}
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        upstream.request(self.command, target.path + (f"?{target.query}" if target.query else ""), body, headers)
        answer = upstream.getresponse()
        content = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        upstream.close()

    do_GET = do_POST = _forward


@pytest.fixture
def proxy():
    def start(credentials=(USER, PASSWORD)):
        server = ForwardProxy(credentials)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    servers: list[ForwardProxy] = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _calls(hook: DataArtsHook) -> None:
    assert hook.list_quality_instances()["count"] == 0
    assert asyncio.run(hook.aget_quality_instance("1")) is None


def test_extra_proxies_with_credentials_carry_sync_and_async_calls(dataarts_emulator, proxy, monkeypatch):
    server = proxy()
    netloc = server.url.split("//")[1]
    proxy_url = f"http://{USER}:{PASSWORD.replace('@', '%40').replace(':', '%3A')}@{netloc}"
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", dataarts_emulator.connection_json(proxies={"http": proxy_url}))
    _calls(DataArtsHook())
    assert [method for method, _ in server.seen] == ["GET", "GET"]
    assert all(url.startswith(dataarts_emulator.url + "/v2/") for _, url in server.seen)
    assert dataarts_emulator.service.calls["quality_list"] == 2  # signatures survived the proxy


def test_wrong_proxy_credentials_are_a_clear_error_without_the_password(dataarts_emulator, proxy, monkeypatch):
    server = proxy()
    proxy_url = server.url.replace("//", f"//{USER}:wrong-proxy-password@")
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", dataarts_emulator.connection_json(proxies={"http": proxy_url}))
    for call in (DataArtsHook().list_quality_instances, lambda: asyncio.run(DataArtsHook().aget_quality_instance("1"))):
        with pytest.raises(DataArtsApiError, match="HTTP 407") as info:
            call()
        assert "wrong-proxy-password" not in str(info.value)
    assert not server.seen and not dataarts_emulator.service.log


def test_environment_proxy_and_no_proxy_apply_to_both_paths(dataarts_emulator, proxy, monkeypatch):
    server = proxy(credentials=None)
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", dataarts_emulator.connection_json())
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", "")
    _calls(DataArtsHook())
    assert len(server.seen) == 2
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    _calls(DataArtsHook())
    assert len(server.seen) == 2 and dataarts_emulator.service.calls["quality_list"] == 4


def test_proxy_password_is_masked_and_kept_out_of_reprs(dataarts_emulator, proxy, monkeypatch):
    server = proxy(credentials=(USER, "Proxy-Secret@4711"))
    proxy_url = server.url.replace("//", f"//{USER}:Proxy-Secret%404711@")  # written encoded, sent decoded
    monkeypatch.setenv("AIRFLOW_CONN_DATAARTS_DEFAULT", dataarts_emulator.connection_json(proxies={"http": proxy_url}))
    hook = DataArtsHook()
    assert hook.list_quality_instances()["count"] == 0
    assert asyncio.run(hook.aget_quality_instance("1")) is None
    for password in ("Proxy-Secret@4711", "Proxy-Secret%404711"):
        assert password not in repr(hook.transport) + str(hook.transport.config)
        assert password not in str(redact(f"proxy password: {password}"))

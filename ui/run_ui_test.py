#!/usr/bin/env python3
"""Browser test of the provider in the real Airflow 3 UI, against the bundled emulator.

One command from a fresh clone (``make ui-test`` runs it)::

    python3 ui/run_ui_test.py                 # screenshots go to .ui-run/screenshots/
    python3 ui/run_ui_test.py --update-docs   # ... and are copied to docs/img/ for the README

What it does:

1. Installs what is missing: Debian's ``chromium`` (apt-get), the project venv ``.venv``
   (``make venv``: Airflow 3.3.2 and this package) and ``.venv-ui`` with the Python
   ``playwright`` package (pinned below). Playwright drives Debian's Chromium through
   ``executable_path``; ``playwright install`` (a browser download) is never run.
2. Starts, all on 127.0.0.1 and free ports, under a throw-away ``AIRFLOW_HOME`` in
   ``.ui-run/``: the DataArts emulator, then ``airflow db migrate`` and the api-server,
   scheduler (LocalExecutor), triggerer and dag-processor. SimpleAuthManager with
   ``simple_auth_manager_all_admins`` (no login), ``test_connection = Enabled``.
3. In headless Chromium: Admin > Connections > Add Connection, type "Huawei Cloud DataArts
   Studio"; checks the relabelled standard fields and every extra field with its label;
   fills them in for the emulator, saves, clicks "Test Connection" and waits for the
   success toast. Then opens ``example_dataarts_manual_rerun``, fills the trigger form
   (the comparison job instead of the default quality job), triggers it, waits for the
   deferred task to succeed, and checks the task's "DataArts Quality" extra link.
4. Stops everything it started (process groups, then any stray process carrying this
   run's marker), also on failure or Ctrl-C. Every wait is bounded; the whole run is
   capped at 15 minutes.

Exit status 0 when every check passed; otherwise 1 with the failed step, the reason, the
page's text, a screenshot (``.ui-run/failure.png``) and the tail of each server's log.

Airflow 3.3.2's "Test Connection" button sends ``"port": 0`` for a connection without a
port, which the API then rejects with 400 "The host or port to test differs from the
stored connection" (apache/airflow#73298, fixed upstream after 3.3.2). While that bug is
there, this test rewrites ``port: 0`` to ``null`` in that one request, as the upstream
fix does on the server side, and says so in its output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / ".ui-run"
HOME = RUN / "home"
LOGS = RUN / "logs"
SHOTS = RUN / "screenshots"
DOCS_IMG = ROOT / "docs" / "img"
VENV = ROOT / ".venv"
UI_VENV = ROOT / ".venv-ui"
PLAYWRIGHT_VERSION = "1.65.2"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT = 120  # seconds, the bound of every wait for a server or a task
TOTAL = 15 * 60  # seconds, the bound of the whole run

DAG_ID = "example_dataarts_manual_rerun"
TASK_ID = "rerun_and_wait"
CONN_ID = "dataarts_default"  # what the example DAGs use
CONN_TYPE_NAME = "Huawei Cloud DataArts Studio"
# The comparison job the emulator knows (rule_type 2); the form's default is quality job 1200372516590559232.
RULE_ID, RULE_TYPE = "1440764172232392705", 2
RULE_TYPE_LABEL = "2 - comparison job"  # the Param's values_display in example_dataarts_manual_rerun
STANDARD_LABELS = {
    "host": "Base URL override (optional)",
    "login": "Access Key (AK) / IAM user name",
    "password": "Secret Key (SK) / IAM password / token",
}
EXTRA_LABELS = {
    "region": "Region",
    "project_id": "Project ID",
    "workspace": "Workspace ID",
    "auth_type": "Auth type",
    "domain_name": "Account (domain) name",
    "security_token": "Security token",
    "endpoints": "Endpoint overrides (JSON)",
    "verify": "TLS verification",
    "timeout": "Timeout (seconds)",
}
TALL = {"width": 1280, "height": 1500}  # the dialogs fit whole
SMALL = {"width": 1280, "height": 720}  # pages
MARKER = "DATAARTS_UI_TEST_RUN"  # in the environment of every process this run starts


def say(message: str) -> None:
    print(f"[ui-test] {message}", flush=True)


class Failure(Exception):
    """A check failed; the message says which and why."""


# -- 1. what the run needs, installed on first use ---------------------------------------


def run(cmd: list[str], timeout: float, **kwargs) -> None:
    say("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, timeout=timeout, **kwargs)


def ensure_chromium() -> None:
    if os.access(CHROMIUM, os.X_OK):
        return
    if CHROMIUM != "/usr/bin/chromium" or not shutil.which("apt-get"):
        raise SystemExit(f"Chromium not found at {CHROMIUM}: install it, or set CHROMIUM=/path/to/chromium")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if sudo and not shutil.which("sudo"):
        raise SystemExit("Chromium is missing and installing it needs root: run `apt-get install -y chromium` as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run([*sudo, "apt-get", "update", "-qq"], timeout=600, env=env)
    run([*sudo, "apt-get", "install", "-y", "-qq", "chromium"], timeout=1200, env=env, stdout=subprocess.DEVNULL)


def ensure_project_venv() -> None:
    # make's stamp rule rebuilds the venv only when it is missing or pyproject/constraints changed.
    run(["make", "-s", "-C", str(ROOT), "venv"], timeout=1800)


def ensure_ui_venv() -> None:
    stamp = UI_VENV / f".playwright-{PLAYWRIGHT_VERSION}"
    if stamp.exists():
        return
    python = os.environ.get("PYTHON", "python3.11")
    shutil.rmtree(UI_VENV, ignore_errors=True)
    run([python, "-m", "venv", str(UI_VENV)], timeout=300)
    pip = [str(UI_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, f"playwright=={PLAYWRIGHT_VERSION}"], timeout=900)  # never `playwright install`
    stamp.touch()


# -- 2. the servers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, never a proxy


def http_json(url: str, timeout: float = 10):
    with _OPENER.open(url, timeout=timeout) as answer:
        return json.load(answer)


def wait_for(what: str, probe, timeout: float = WAIT, interval: float = 1.0):
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except Failure:
            raise
        except Exception as error:  # not up yet
            last = error
        else:
            if result:
                return result
        time.sleep(interval)
    raise Failure(f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last})" if last else ""))


class Servers:
    """Every process this run starts, each in its own process group, and their teardown."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.procs: dict[str, subprocess.Popen] = {}
        self.env: dict[str, str] = {}
        self.api = ""
        self.emulator = ""
        self.credentials: dict[str, str] = {}

    def start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(LOGS / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.procs[name] = proc
        say(f"started {name} (pid {proc.pid})")
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise Failure(f"{name} exited with status {proc.returncode}; see {LOGS / (name + '.log')}")

    def up(self) -> None:
        port = free_port()
        self.api = f"http://127.0.0.1:{port}"
        secret = secrets.token_hex(24)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}  # nothing from the caller's Airflow
        env.update(
            {
                MARKER: self.token,
                "AIRFLOW_HOME": str(HOME),
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "airflow_provider_dataarts" / "example_dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api}/execution/",
                "AIRFLOW__API__BASE_URL": self.api,
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__SECRET_KEY": secret,
                "AIRFLOW__API_AUTH__JWT_SECRET": secret,
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env = env
        python = str(VENV / "bin" / "python")
        # The emulator's documented demo credentials, read from the package itself (installed in .venv).
        names = ("DEFAULT_AK", "DEFAULT_SK", "DEFAULT_PROJECT_ID", "DEFAULT_WORKSPACE")
        code = (
            "import json, airflow_provider_dataarts.emulator as e; "
            f"print(json.dumps({{n: getattr(e, n) for n in {names!r}}}))"
        )
        self.credentials = json.loads(subprocess.check_output([python, "-c", code], env=env, cwd=ROOT, timeout=60))

        emulator = self.start(
            "emulator", [python, "-m", "airflow_provider_dataarts.emulator", "--host", "127.0.0.1", "--port", "0"]
        )

        def emulator_url():
            self.check_alive()
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", (LOGS / "emulator.log").read_text())
            return match and match.group(1)

        self.emulator = wait_for("the emulator", emulator_url, interval=0.2)
        say(f"emulator at {self.emulator} (pid {emulator.pid})")

        say("airflow db migrate")
        with open(LOGS / "db-migrate.log", "w") as log:
            subprocess.run(
                [python, "-m", "airflow", "db", "migrate"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=True,
                timeout=WAIT * 2,
            )

        airflow = [python, "-m", "airflow"]
        self.start("api-server", [*airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"])
        # No log servers: they would listen on every interface; the api-server reads local task logs itself.
        self.start("scheduler", [*airflow, "scheduler", "--skip-serve-logs"])
        self.start("triggerer", [*airflow, "triggerer", "--skip-serve-logs"])
        self.start("dag-processor", [*airflow, "dag-processor"])

        def healthy():
            self.check_alive()
            health = http_json(f"{self.api}/api/v2/monitor/health")
            return all(part.get("status") == "healthy" for part in health.values())

        wait_for("Airflow's api-server, scheduler, triggerer and dag-processor to be healthy", healthy)

        def dag_parsed():
            self.check_alive()
            errors = http_json(f"{self.api}/api/v2/importErrors")
            if errors.get("total_entries"):
                raise Failure(f"import errors in the example DAGs: {json.dumps(errors['import_errors'])[:2000]}")
            return http_json(f"{self.api}/api/v2/dags/{DAG_ID}")

        wait_for(f"the DAG {DAG_ID} to be parsed", dag_parsed)
        say(f"Airflow is up at {self.api}")

    def down(self) -> None:
        for proc in self.procs.values():
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} (pid {proc.pid}) did not stop on SIGTERM: SIGKILL")
            _signal_group(proc.pid, signal.SIGKILL)  # also whatever it left in its group
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        strays = _marked_processes(self.token)
        for pid in strays:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if strays:
            say(f"killed {len(strays)} stray process(es) of this run: {strays}")
        if self.procs:
            say("stopped everything this run started")


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _marked_processes(token: str) -> list[int]:
    """PIDs of live processes whose environment carries this run's marker (and that are not us)."""
    needle = f"{MARKER}={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            pass
    return found


# -- 3. the browser --------------------------------------------------------------------------


class BrowserTest:
    def __init__(self, servers: Servers, page) -> None:
        self.servers = servers
        self.page = page
        self.api = servers.api
        self.step = "start"

    def begin(self, step: str) -> None:
        self.step = step
        say(f"step: {step}")

    def shot(self, name: str, locator=None) -> None:
        path = SHOTS / name
        (locator or self.page).screenshot(path=str(path))
        say(f"screenshot {path.relative_to(ROOT)}")

    def emulator_calls(self, name: str) -> int:
        return http_json(f"{self.servers.emulator}/_emulator/state")["calls"].get(name, 0)

    def run(self) -> None:
        self.connection_form()
        self.connection_test()
        run_id = self.trigger()
        self.extra_link(run_id)

    def connection_form(self) -> None:
        from playwright.sync_api import expect

        page = self.page
        self.begin("Admin > Connections > Add Connection")
        page.goto(f"{self.api}/connections")
        page.get_by_role("button", name="Add Connection").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_text("Add Connection", exact=True)).to_be_visible()
        dialog.get_by_label("Connection ID").fill(CONN_ID)

        self.begin(f"choose the connection type {CONN_TYPE_NAME!r}")
        combo = dialog.get_by_role("combobox")
        combo.click()
        combo.fill("DataArts")
        option = page.get_by_role("option", name=CONN_TYPE_NAME, exact=True)
        if not option.count():
            expect(option).to_be_visible(timeout=10_000)
        option.click()

        self.begin("the standard fields are relabelled, port and schema hidden")
        expect(dialog.get_by_text("Standard Fields", exact=True)).to_be_visible()
        for field, label in STANDARD_LABELS.items():
            box = dialog.get_by_label(label, exact=True)
            expect(box, f"standard field {field} labelled {label!r}").to_be_visible()
        for hidden in ("Port", "Schema"):
            expect(dialog.get_by_text(hidden, exact=True), f"the {hidden} field is hidden").to_have_count(0)
        host = dialog.get_by_label(STANDARD_LABELS["host"], exact=True)
        expect(host).to_have_attribute("placeholder", re.compile("emulator"))
        host.fill(self.servers.emulator)
        creds = self.servers.credentials
        dialog.get_by_label(STANDARD_LABELS["login"], exact=True).fill(creds["DEFAULT_AK"])
        dialog.get_by_label(STANDARD_LABELS["password"], exact=True).fill(creds["DEFAULT_SK"])
        self.shot("connection-form.png", dialog)

        self.begin("the extra fields, each with its label")
        dialog.get_by_role("button", name="Extra Fields", exact=True).click()
        for field, label in EXTRA_LABELS.items():
            row = dialog.locator('[data-scope="field"][data-part="root"]').filter(has=page.locator(f"#element_{field}"))
            expect(row, f"extra field {field}").to_have_count(1)
            expect(row.locator("label"), f"extra field {field} labelled {label!r}").to_have_text(label)
            expect(row.locator(f"#element_{field}")).to_be_visible()
        auth_row = dialog.locator('[data-scope="field"][data-part="root"]').filter(
            has=page.locator("#element_auth_type")
        )
        expect(auth_row, "auth type defaults to aksk").to_contain_text("aksk")
        dialog.locator("#element_region").fill("cn-north-4")
        dialog.locator("#element_project_id").fill(creds["DEFAULT_PROJECT_ID"])
        dialog.locator("#element_workspace").fill(creds["DEFAULT_WORKSPACE"])
        self.shot("connection-extra-fields.png", dialog)

        self.begin("save the connection")
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("row").filter(has_text=CONN_ID)).to_be_visible()
        stored = http_json(f"{self.api}/api/v2/connections/{CONN_ID}")
        extra = json.loads(stored.get("extra") or "{}")
        expected = {
            "region": "cn-north-4",
            "project_id": creds["DEFAULT_PROJECT_ID"],
            "workspace": creds["DEFAULT_WORKSPACE"],
            "auth_type": "aksk",
        }
        if (
            stored.get("conn_type") != "dataarts"
            or stored.get("host") != self.servers.emulator
            or any(extra.get(k) != v for k, v in expected.items())
        ):
            raise Failure(f"the saved connection is not what the form said: {stored}")

    def connection_test(self) -> None:
        from playwright.sync_api import expect

        page = self.page
        self.begin("Test Connection (test_connection = Enabled) against the emulator")
        patched = []

        def portless(route) -> None:
            # apache/airflow#73298: the 3.3.2 UI sends port 0 for a connection without a port.
            body = route.request.post_data_json
            if isinstance(body, dict) and body.get("port") == 0:
                body["port"] = None
                patched.append(True)
                route.continue_(post_data=json.dumps(body))
            else:
                route.continue_()

        page.route("**/api/v2/connections/test", portless)
        page.set_viewport_size(SMALL)
        page.goto(f"{self.api}/connections")  # a fresh list, without the "connection created" toast
        calls = self.emulator_calls("quality_list")
        row = page.get_by_role("row").filter(has_text=CONN_ID)
        with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as answer:
            row.get_by_role("button", name="Test Connection").click()
        if patched:
            say("worked around apache/airflow#73298: sent port null instead of the UI's port 0")
        result = answer.value.json() if answer.value.ok else {"status": False, "message": answer.value.text()}
        if not result.get("status"):
            raise Failure(f"Test Connection failed: HTTP {answer.value.status}: {result.get('message')}")
        expect(page.get_by_text("Test Connection Successful")).to_be_visible()
        expect(page.get_by_text(re.compile(r"Connected to DataArts Quality at http://127\.0\.0\.1"))).to_be_visible()
        page.wait_for_timeout(1000)  # let the toast finish sliding in
        self.shot("connection-test.png")
        say(f"connection test: {result['message']}")
        if self.emulator_calls("quality_list") <= calls:
            raise Failure("the connection test said success but the emulator saw no call")
        page.unroute("**/api/v2/connections/test")

    def trigger(self) -> str:
        from playwright.sync_api import expect

        page = self.page
        self.begin(f"open {DAG_ID} and its trigger form")
        page.set_viewport_size(TALL)
        page.goto(f"{self.api}/dags/{DAG_ID}")
        page.get_by_role("button", name="Trigger Dag").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_text(f"Trigger Dag - {DAG_ID}")).to_be_visible()
        expect(dialog.get_by_text("Run Parameters", exact=True)).to_be_visible()
        for title in ("Job id", "Job type", "Workspace id"):
            expect(dialog.locator("label").filter(has_text=title), f"param {title!r}").to_be_visible()

        self.begin(f"fill the params: comparison job {RULE_ID}, job type {RULE_TYPE}")
        dialog.locator("#element_rule_id").fill(RULE_ID)
        job_type = dialog.locator('[data-scope="field"][data-part="root"]').filter(has_text="Job type")
        job_type.get_by_role("combobox").click()
        page.get_by_role("option", name=RULE_TYPE_LABEL, exact=True).click()
        expect(job_type).to_contain_text(RULE_TYPE_LABEL)
        unpause = dialog.get_by_role("checkbox")
        if unpause.count() == 1 and not unpause.is_checked():
            dialog.get_by_text(f"Unpause {DAG_ID} on trigger").click()
        self.shot("trigger-form.png", dialog)

        self.begin("trigger")
        with page.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith(f"/dags/{DAG_ID}/dagRuns")
        ) as answer:
            dialog.get_by_role("button", name="Trigger", exact=True).click()
        if not answer.value.ok:
            raise Failure(f"triggering failed: HTTP {answer.value.status}: {answer.value.text()[:500]}")
        dag_run = answer.value.json()
        conf = dag_run.get("conf") or {}
        if conf.get("rule_id") != RULE_ID or conf.get("rule_type") != RULE_TYPE:
            raise Failure(f"the run's conf is not what the form said: {conf}")
        run_id = dag_run["dag_run_id"]
        say(f"triggered {run_id} with conf {json.dumps(conf)}")
        expect(page).to_have_url(re.compile(f"/dags/{DAG_ID}/runs/"))
        return run_id

    def extra_link(self, run_id: str) -> None:
        from playwright.sync_api import expect

        page = self.page
        self.begin(f"wait for {TASK_ID} (deferred to the triggerer) to finish")
        url = f"{self.api}/api/v2/dags/{DAG_ID}/dagRuns/{urllib.request.quote(run_id, safe='')}/taskInstances/{TASK_ID}"
        seen = set()

        def finished():
            self.servers.check_alive()
            state = http_json(url).get("state")
            if state not in seen:
                seen.add(state)
                say(f"   {TASK_ID}: {state}")
            if state in ("failed", "upstream_failed", "skipped", "removed"):
                raise Failure(f"{TASK_ID} ended {state}; task logs under {HOME / 'logs'}")
            return state == "success"

        wait_for(f"{TASK_ID} to succeed", finished, interval=2)
        instances = [
            i
            for i in http_json(f"{self.servers.emulator}/_emulator/state")["instances"]
            if str(i["task_id"]) == RULE_ID
        ]
        if len(instances) != 1 or instances[0]["run_status"] != "SUCCESS":
            raise Failure(f"the emulator did not run comparison job {RULE_ID} once, successfully: {instances}")
        instance_id = str(instances[0]["id"])
        say(f"the emulator ran {instances[0]['name']} ({instances[0]['task_type']}): instance {instance_id} SUCCESS")

        self.begin("the task instance shows the 'DataArts Quality' extra link")
        page.set_viewport_size(SMALL)
        page.goto(f"{self.api}/dags/{DAG_ID}/runs/{run_id}/tasks/{TASK_ID}/details")
        expect(page.get_by_text("Success", exact=True).first).to_be_visible()
        expect(page.get_by_text("Extra Links", exact=True)).to_be_visible()
        link = page.get_by_role("link", name="DataArts Quality", exact=True)
        expect(link).to_be_visible()
        href = link.get_attribute("href") or ""
        if "console.huaweicloud.com" not in href or f"instanceId={instance_id}" not in href:
            raise Failure(f"the extra link does not point at the console page of instance {instance_id}: {href!r}")
        say(f"extra link 'DataArts Quality' -> {href}")
        link.hover()
        self.shot("extra-link.png")


# -- main -------------------------------------------------------------------------------------


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


def in_ui_venv(args: argparse.Namespace) -> int:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a loaded 2-core machine: 5 s (the default) is not always enough
    began = time.monotonic()
    token = secrets.token_hex(8)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    signal.signal(signal.SIGALRM, _stop)
    signal.alarm(TOTAL)
    shutil.rmtree(RUN, ignore_errors=True)
    for folder in (HOME, LOGS, SHOTS):
        folder.mkdir(parents=True)
    servers = Servers(token)
    test = None
    status = 1
    try:
        try:
            servers.up()
        except subprocess.CalledProcessError as error:
            raise Failure(f"{' '.join(map(str, error.cmd[-3:]))} failed; see {LOGS}") from None
        say(f"servers up in {time.monotonic() - began:.0f} s")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport=TALL, locale="en-US", timezone_id="UTC")
                page.set_default_timeout(30_000)
                page.set_default_navigation_timeout(60_000)
                test = BrowserTest(servers, page)
                try:
                    test.run()
                except Exception:
                    try:
                        page.screenshot(path=str(RUN / "failure.png"))
                        (RUN / "failure.txt").write_text(page.inner_text("body", timeout=5_000))
                    except Exception:
                        pass
                    raise
            finally:
                browser.close()
        status = 0
    except Exception as error:  # Failure, a Playwright assertion or timeout, a server that would not start
        step = test.step if test else "starting the servers"
        print(f"\n[ui-test] FAILED at step: {step}\n[ui-test] {type(error).__name__}: {error}", file=sys.stderr)
        if (RUN / "failure.txt").exists():
            print(f"[ui-test] page text:\n{tail(RUN / 'failure.txt', 40)}", file=sys.stderr)
            print(f"[ui-test] screenshot: {RUN / 'failure.png'}", file=sys.stderr)
        for log in sorted(LOGS.glob("*.log")):
            print(f"\n[ui-test] --- last lines of {log.relative_to(ROOT)} ---\n{tail(log)}", file=sys.stderr)
    finally:
        signal.alarm(0)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # let nothing interrupt the teardown
            signal.signal(sig, signal.SIG_IGN)
        servers.down()
    if status == 0:
        if args.update_docs:
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            for shot in sorted(SHOTS.glob("*.png")):
                shutil.copy2(shot, DOCS_IMG / shot.name)
            say(f"copied {len(list(SHOTS.glob('*.png')))} screenshots to {DOCS_IMG.relative_to(ROOT)}/")
        say(f"PASSED in {time.monotonic() - began:.0f} s; screenshots in {SHOTS.relative_to(ROOT)}/")
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update-docs", action="store_true", help="copy the screenshots to docs/img/")
    args = parser.parse_args()
    if os.environ.get("DATAARTS_UI_TEST_IN_VENV") != "1":
        began = time.monotonic()
        ensure_chromium()
        ensure_project_venv()
        ensure_ui_venv()
        say(f"prerequisites ready in {time.monotonic() - began:.0f} s")
        python = str(UI_VENV / "bin" / "python")
        os.environ["DATAARTS_UI_TEST_IN_VENV"] = "1"
        os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])
    return in_ui_venv(args)


if __name__ == "__main__":
    sys.exit(main())

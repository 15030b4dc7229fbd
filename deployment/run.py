"""``make deployment-test``: the provider on a real Airflow 3.3 deployment, under load and faults.

Starts, on 127.0.0.1 only and all owned by this script: a throw-away PostgreSQL cluster
(metadata DB and Celery result backend), Redis (Celery broker), the DataArts emulator,
``airflow db migrate``, the API server, the scheduler, the DAG processor, a triggerer and
two Celery workers (``--concurrency 4`` each). Then it triggers ``dataarts_load`` with N
(``deployment/dags/dataarts_load.py``): N mapped ``RerunQualityOperator(deferrable=True)``
tasks whose runs the emulator ends at spread-out times with SUCCESS, FAILED or ALARMING,
plus ``worker_drill``, one rerun that waits in a worker (``deferrable=False``), and
``mark_failed_drill``, one deferred rerun on a long run.

Fault drill, during that run:

* worker: once ``worker_drill`` has started its run and stored the run id in
  ``task_state_store``, the whole process tree of the Celery worker running it is
  SIGKILLed and a replacement worker started. The scheduler finds the task's heartbeat
  gone, retries it, and the retry must reattach to the same run (one rerun in the emulator).
  The load's mapped tasks are held back (pool ``dataarts_load_gate`` with 0 slots) until
  the kill, so the drill kills no other task.
* triggerer: mid-wait, with the mapped tasks deferred, the triggerer's process tree is
  SIGKILLed and a new triggerer started; it must take over every trigger.
* mark failed: once ``mark_failed_drill`` waits in the triggerer, it is marked failed through
  the REST API, as a user does in the UI; the trigger's ``on_kill`` (Airflow 3.3) must cancel
  its run in DataArts (the emulator counts the cancel). Done in every run, ``--no-drill`` too.

While the load waits it samples, every second, the task-instance states in the DB
(running vs deferred) and the triggerer's process tree (VmRSS, utime+stime from /proc).
At the end it checks: every mapped task in the state its run's verdict implies, exactly
one rerun per job (N + 2 in all), the marked task's run cancelled once, XCom ``instance``
of every task naming its own job's run, the drill's retry reattached, no trigger left; and
prints the figures (also written to
``report.json`` with ``timeline.csv`` in the run dir). Every process it started is ended
by PID on the way out, whatever happened; every wait is bounded.

Run it through ``deployment/run.sh`` (installs what is missing), e.g.
``deployment/run.sh --n 200``; ``--help`` lists the knobs.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import itertools
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "deployment" / "dags"
sys.path.insert(0, str(DAGS))

from load_plan import DRILL_RULE_ID, MARK_FAILED_RULE_ID, plan  # noqa: E402

from airflow_provider_dataarts.emulator import connection_for  # noqa: E402

DAG_ID = "dataarts_load"
GATE_POOL = "dataarts_load_gate"
MARKER = "DATAARTS_DEPLOY_RUN"  # env var every process we start inherits: how teardown finds them by PID
TERMINAL = {"success", "failed", "skipped", "upstream_failed", "removed"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


class DeploymentError(Exception):
    pass


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- processes -----------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, starttime) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat:
                table[int(entry)] = (int(stat[1]), int(stat[19]))
    return table


def read_stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state is [0], ppid [1], utime [11])."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            data = file.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2 :].split()


def descendants(root: int, table: dict[int, tuple[int, int]] | None = None) -> list[int]:
    table = table if table is not None else proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def marked_pids(run_id: str) -> list[int]:
    """Every live process whose environment carries this run's marker: the ones this run started."""
    needle = f"{MARKER}={run_id}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as file:
                    if needle in file.read().split(b"\0"):
                        found.append(int(entry))
            except OSError:
                pass
    return found


def kill_tree(root: int, sig: int = signal.SIGKILL) -> list[int]:
    """Stop the root and all its descendants first (no new forks), then send ``sig`` to each."""
    pids = [root, *descendants(root)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    pids = sorted(set(pids) | {p for pid in pids for p in descendants(pid)})
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
            if sig != signal.SIGKILL:
                os.kill(pid, signal.SIGCONT)
    return pids


def alive(pid: int) -> bool:
    stat = read_stat(pid)
    return stat is not None and stat[0] != "Z"


class Component:
    def __init__(self, name: str, popen: subprocess.Popen, log_path: Path) -> None:
        self.name, self.popen, self.log_path = name, popen, log_path
        self.pid = popen.pid

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Deployment:
    """Starts and owns every process; ``teardown`` ends them all by PID."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_dir = Path(args.run_dir).resolve()
        self.logs = self.run_dir / "logs"
        self.run_id = uuid.uuid4().hex
        self.components: list[Component] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="dataarts-deploy-"))
        (self.run_dir / "tmpdir").write_text(str(self.tmp))  # for run.sh's reaper, should this process die
        self.env: dict[str, str] = dict(os.environ)  # Airflow's variables are added once the servers are up
        self.db = None
        self.token: str | None = None

    # -- starting ------------------------------------------------------------------------

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None, **kwargs) -> Component:
        log_path = self.logs / f"{name}.log"
        log_file = open(log_path, "ab")  # noqa: SIM115 - closed with the deployment
        popen = subprocess.Popen(
            argv,
            stdout=kwargs.pop("stdout", log_file),
            stderr=log_file,
            stdin=subprocess.DEVNULL,
            env={**(env or self.env), MARKER: self.run_id},
            cwd=self.run_dir,
            start_new_session=True,
            **kwargs,
        )
        component = Component(name, popen, log_path)
        self.components.append(component)
        with open(self.run_dir / "pids", "a") as pids:
            pids.write(f"{popen.pid} {read_stat(popen.pid)[19] if read_stat(popen.pid) else 0} {name}\n")
        return component

    def airflow(self, name: str, *args: str) -> Component:
        return self.start(name, [sys.executable, "-m", "airflow", *args])

    def wait(self, what: str, predicate, timeout: float, interval: float = 0.5, watch=()):
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            for component in watch:
                if component.popen.poll() is not None:
                    raise DeploymentError(
                        f"{component.name} exited ({component.popen.returncode}) while waiting for {what}:\n"
                        f"{component.tail()}"
                    )
            if time.monotonic() > deadline:
                raise DeploymentError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def postgres(self) -> str:
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
        if not bindirs:
            raise DeploymentError("PostgreSQL server binaries not found under /usr/lib/postgresql (deployment/run.sh)")
        bindir = bindirs[-1]
        data = self.tmp / "pgdata"
        data.mkdir()
        as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.tmp, "postgres")
            shutil.chown(data, "postgres")
            as_user = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--"]
        self.tmp.chmod(0o755)
        port = free_port()
        initdb = subprocess.run(
            [*as_user, f"{bindir}/initdb", "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8", "--no-sync"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        (self.logs / "initdb.log").write_text(initdb.stdout + initdb.stderr)
        if initdb.returncode:
            raise DeploymentError(f"initdb failed:\n{initdb.stderr[-2000:]}")
        pg = self.start(
            "postgres",
            [
                *as_user,
                f"{bindir}/postgres",
                "-D", str(data),
                "-p", str(port),
                "-k", str(self.tmp),
                "-c", "listen_addresses=127.0.0.1",
                "-c", "max_connections=400",
                "-c", "shared_buffers=256MB",
                "-c", "fsync=off",
                "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off",
            ],
        )  # fmt: skip
        import psycopg2

        def ready():
            try:
                conn = psycopg2.connect(
                    host="127.0.0.1", port=port, user="airflow", dbname="postgres", connect_timeout=2
                )
            except psycopg2.OperationalError:
                return None
            conn.autocommit = True
            conn.cursor().execute("CREATE DATABASE airflow")
            conn.close()
            return True

        self.wait("PostgreSQL", ready, 60, watch=[pg])
        return f"127.0.0.1:{port}"

    def redis(self) -> int:
        port = free_port()
        redis_dir = self.tmp / "redis"
        redis_dir.mkdir()
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        component = self.start(
            "redis",
            [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(redis_dir), "--protected-mode", "yes", "--daemonize", "no"],
        )  # fmt: skip

        def ping():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                    sock.sendall(b"PING\r\n")
                    return sock.recv(64).startswith(b"+PONG")
            except OSError:
                return False

        self.wait("Redis", ping, 30, watch=[component])
        return port

    def emulator(self, config: dict) -> tuple[Component, str]:
        config_path = self.run_dir / "emulator-config.json"
        config_path.write_text(json.dumps(config))
        component = self.start(
            "emulator",
            [
                sys.executable,
                "-m",
                "airflow_provider_dataarts.emulator",
                "--port",
                "0",
                "--config",
                str(config_path),
                "--no-demo",
            ],
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
        )
        ready, _, _ = select.select([component.popen.stdout], [], [], 30)
        line = component.popen.stdout.readline().decode().strip() if ready else ""
        if "listening on" not in line:
            raise DeploymentError(f"the emulator did not start: {line!r}\n{component.tail()}")
        return component, line.rsplit(" ", 1)[1]

    # -- teardown --------------------------------------------------------------------------

    def teardown(self) -> None:
        if self.db is not None:
            with contextlib.suppress(Exception):
                self.db.close()
        # Airflow's processes first, then the servers they use (so none of them logs a lost
        # database on the way out). Each stage: SIGTERM (postgres: SIGINT, a fast shutdown), a
        # bounded wait, then SIGKILL. Processes are found by PID: the ones we started, their
        # descendants, and anything else that carries this run's marker.
        servers = {"postgres", "redis", "emulator"}
        stages = [
            [c for c in self.components if c.name not in servers],
            [c for c in self.components if c.name in servers],
        ]
        killed = 0
        for number, stage in enumerate(stages):
            table = proc_table()
            ours = {p for c in stage if alive(c.pid) for p in (c.pid, *descendants(c.pid, table))}
            if number == 0:  # strays of the first stage, e.g. task processes whose worker was killed
                server_pids = {p for c in stages[1] for p in (c.pid, *descendants(c.pid, table))}
                ours |= set(marked_pids(self.run_id)) - server_pids
            # PostgreSQL's tree gets SIGINT: a fast shutdown for the postmaster (and its runuser).
            postgres = {p for c in stage if c.name == "postgres" for p in (c.pid, *descendants(c.pid, table))}
            for pid in ours:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT if pid in postgres else signal.SIGTERM)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and any(alive(pid) for pid in ours):
                time.sleep(0.2)
            for pid in ours:
                if alive(pid):
                    killed += 1
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            for component in stage:
                with contextlib.suppress(Exception):
                    component.popen.wait(timeout=10)
        for pid in marked_pids(self.run_id):
            if alive(pid):
                killed += 1
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if killed:
            log(f"teardown: SIGKILLed {killed} process(es) that outlived SIGTERM by 20 s")
        still = [pid for pid in marked_pids(self.run_id) if alive(pid)]
        if still:
            log(f"teardown: WARNING processes still alive: {still}")
        shutil.rmtree(self.tmp, ignore_errors=True)
        for name in ("pids", "tmpdir"):
            with contextlib.suppress(OSError):
                (self.run_dir / name).unlink()
        log("teardown: every process this run started has ended; temp dir removed")


# -- sampling -------------------------------------------------------------------------------


class TreeSampler:
    """RSS (VmRSS) and CPU time (utime + stime) of process trees: the triggerer, and its replacement."""

    def __init__(self) -> None:
        self.roots: list[int] = []
        self.ticks: dict[tuple[int, int], int] = {}  # (pid, starttime) -> last utime+stime seen
        self.peak_rss_kb = 0
        self.rss_kb = 0

    def sample(self) -> None:
        table = proc_table()
        pids = set()
        for root in self.roots:
            if root in table:
                pids |= {root, *descendants(root, table)}
        rss = 0
        for pid in pids:
            stat = read_stat(pid)
            if stat is None:
                continue
            self.ticks[(pid, int(stat[19]))] = int(stat[11]) + int(stat[12])  # utime + stime
            rss += vmrss_kb(pid)
        self.rss_kb = rss
        self.peak_rss_kb = max(self.peak_rss_kb, rss)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / CLK_TCK


def vmrss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as file:
            for line in file:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# -- the test ---------------------------------------------------------------------------------


def http(method: str, url: str, body=None, token: str | None = None, timeout: float = 30):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            text = answer.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        raise DeploymentError(f"{method} {url} answered {error.code}: {error.read()[:1000]!r}") from None


def provider_version() -> str:
    """The commit the provider code was run at, and whether the work tree differed from it."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "airflow_provider_dataarts"],
                               capture_output=True, text=True, timeout=10).stdout.strip()  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (head or "unknown") + (" + uncommitted changes" if dirty else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=int(env("N", "20")), help="mapped quality jobs (env N, default 20)")
    parser.add_argument("--run-dir", default=env("DEPLOY_RUN_DIR", str(ROOT / ".deploy-run")), help="logs, report")
    parser.add_argument("--min-duration", type=float, help="shortest emulated run, s (default: from N)")
    parser.add_argument("--max-duration", type=float, help="longest emulated run, s (default: from N)")
    parser.add_argument("--drill-duration", type=float, default=50.0, help="the worker drill's run, s (default 50)")
    parser.add_argument("--poll-interval", type=float, default=float(env("POLL_INTERVAL", "5")), help="trigger poll, s")
    parser.add_argument("--no-drill", action="store_true", help="no SIGKILLs: the load only")
    parser.add_argument(
        "--kill-before-store",
        action="store_true",
        help="worker drill variant: kill the worker as soon as the rerun is accepted, while the run's first "
        "lookup is held 30 s by an emulator fault; the retry must still reattach (the operator stores the run "
        "id before that lookup)",
    )
    parser.add_argument("--timeout", type=float, help="bound on the whole wait for the DAG run, s (default: from N)")
    args = parser.parse_args(argv)
    if not 1 <= args.n <= 1024:
        parser.error("--n must be 1 to 1024 (Airflow's max_map_length)")
    # The load starts after the worker drill's kill. Airflow starts about 1.5 tasks a second on
    # 2 cores, so the shortest run lasts about as long as starting them all takes: most tasks
    # wait deferred together, the first verdicts arrive while the last tasks start, and the
    # rest over the following minute or so.
    if args.min_duration is None:
        args.min_duration = max(10.0, 0.5 * args.n)
    if args.max_duration is None:
        args.max_duration = args.min_duration + 20.0 + 0.3 * args.n
    args.timeout = args.timeout or 600 + args.n * 3.0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    run_dir = Path(args.run_dir).resolve()
    shutil.rmtree(run_dir, ignore_errors=True)
    (run_dir / "logs").mkdir(parents=True)
    (run_dir / "airflow-home").mkdir()
    deployment = Deployment(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        return run(deployment, args, began)
    except (DeploymentError, KeyboardInterrupt) as error:
        log(f"FAILED: {error}")
        log(f"component logs: {deployment.logs}")
        return 1
    except Exception:
        log("FAILED with an unexpected error:")
        traceback.print_exc()
        log(f"component logs: {deployment.logs}")
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        deployment.teardown()
        log(f"total wall time {time.monotonic() - began:.0f} s")


def run(d: Deployment, args: argparse.Namespace, began: float) -> int:
    n = args.n
    jobs = plan(n, args.min_duration, args.max_duration)
    rules = [
        {"rule_id": job["rule_id"], "name": job["name"], "rule_type": 1, "outcomes": [job["outcome"]],
         "duration": job["duration"]}
        for job in jobs
    ]  # fmt: skip
    rules.append(
        {"rule_id": DRILL_RULE_ID, "name": "worker_drill", "rule_type": 1, "outcomes": ["SUCCESS"],
         "duration": args.drill_duration}
    )  # fmt: skip
    # Never ends by itself within the test: only the cancel from the trigger's on_kill ends it.
    rules.append(
        {"rule_id": MARK_FAILED_RULE_ID, "name": "mark_failed_drill", "rule_type": 1, "outcomes": ["SUCCESS"],
         "duration": 3600}
    )  # fmt: skip
    reruns_expected = n + 2
    log(
        f"N={n}: {sum(j['expected_state'] == 'success' for j in jobs)} tasks expected to succeed, "
        f"{sum(j['expected_state'] == 'failed' for j in jobs)} to fail; runs last "
        f"{args.min_duration:.0f}-{args.max_duration:.0f} s; poll every {args.poll_interval:g} s; run dir {d.run_dir}"
    )

    # -- servers ------------------------------------------------------------------------------
    t0 = time.monotonic()
    pg = d.postgres()
    redis_port = d.redis()
    emulator, emulator_url = d.emulator({"rules": rules})
    log(f"PostgreSQL {pg}, Redis 127.0.0.1:{redis_port}, emulator {emulator_url} ({time.monotonic() - t0:.1f} s)")

    api_port = free_port()
    from cryptography.fernet import Fernet

    conn = connection_for(emulator_url)
    home = d.run_dir / "airflow-home"
    d.env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://airflow@{pg}/airflow",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://airflow@{pg}/airflow",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        # A SIGKILLed worker's task is found within ~25 s instead of 5 min.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
        # A SIGKILLed triggerer's triggers are taken over once its heartbeat is 10 s old.
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
        "AIRFLOW__TRIGGERER__CAPACITY": str(max(1000, n + 10)),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_DATAARTS_DEFAULT": json.dumps(conn),
        "DATAARTS_LOAD_POLL_INTERVAL": str(args.poll_interval),
        "PYTHONUNBUFFERED": "1",
    }

    t0 = time.monotonic()
    migrate = d.airflow("db-migrate", "db", "migrate")
    d.wait("airflow db migrate", lambda: migrate.popen.poll() is not None, 300)
    if migrate.popen.returncode:
        raise DeploymentError(f"airflow db migrate failed:\n{migrate.tail()}")
    log(f"airflow db migrate: {time.monotonic() - t0:.1f} s")

    t0 = time.monotonic()
    api = d.airflow("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "2")
    scheduler = d.airflow("scheduler", "scheduler")
    processor = d.airflow("dag-processor", "dag-processor")
    triggerer = d.airflow("triggerer-1", "triggerer", "--skip-serve-logs")
    workers = {
        "worker-1": d.airflow("worker-1", "celery", "worker", "--concurrency", "4", "--skip-serve-logs",
                              "--celery-hostname", "worker-1@%h", "--without-mingle", "--without-gossip"),
        "worker-2": d.airflow("worker-2", "celery", "worker", "--concurrency", "4", "--skip-serve-logs",
                              "--celery-hostname", "worker-2@%h", "--without-mingle", "--without-gossip"),
    }  # fmt: skip
    core = [api, scheduler, processor, triggerer, *workers.values(), emulator]
    base = f"http://127.0.0.1:{api_port}"

    def healthy():
        try:
            health = http("GET", f"{base}/api/v2/monitor/health", timeout=5)
        except (OSError, ValueError):
            return None
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return all((health.get(p) or {}).get("status") == "healthy" for p in parts) and health

    d.wait("the API server, scheduler, triggerer and DAG processor to report healthy", healthy, 240, 1, watch=core)
    for name, worker in workers.items():
        d.wait(f"{name} ready", lambda w=worker: " ready." in w.log_path.read_text(errors="replace"), 120, watch=core)
    log(
        f"Airflow up (API server, scheduler, DAG processor, triggerer, 2 Celery workers): {time.monotonic() - t0:.1f} s"
    )

    import psycopg2

    host, port = pg.split(":")
    d.db = psycopg2.connect(host=host, port=int(port), user="airflow", dbname="airflow", connect_timeout=5)
    d.db.autocommit = True

    def query(sql: str, *params):
        with d.db.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def parsed():
        errors = query("SELECT filename, stacktrace FROM import_error")
        if errors:
            raise DeploymentError(f"DAG import errors: {errors}")
        return query("SELECT 1 FROM serialized_dag WHERE dag_id = %s", DAG_ID)

    d.wait(f"the DAG processor to parse {DAG_ID}", parsed, 120, 1, watch=core)

    d.token = http("GET", f"{base}/auth/token")["access_token"]
    token = d.token
    http("POST", f"{base}/api/v2/pools", {"name": GATE_POOL, "slots": 1 if args.no_drill else 0}, token)
    http("PATCH", f"{base}/api/v2/dags/{DAG_ID}", {"is_paused": False}, token)
    if args.kill_before_store and not args.no_drill:
        # The first run-list request (worker_drill's look-up right after its rerun) answers 30 s late.
        fault = {"path": "/quality/instances$", "method": "GET", "latency": 30, "times": 1}
        http("POST", f"{emulator_url}/_emulator/faults", fault)
    run_id = f"load_n{n}_{time.strftime('%Y%m%dT%H%M%S')}"
    http("POST", f"{base}/api/v2/dags/{DAG_ID}/dagRuns", {"dag_run_id": run_id, "logical_date": None, "conf": {"n": n}},
         token)  # fmt: skip
    triggered_at = time.monotonic()
    log(f"triggered {DAG_ID} run {run_id} with n={n} ({triggered_at - began:.0f} s after start)")

    def emulator_state():
        return http("GET", f"{emulator_url}/_emulator/state", timeout=30)

    def tis():
        return query(
            "SELECT task_id, map_index, state, try_number, pid FROM task_instance WHERE dag_id = %s AND run_id = %s",
            DAG_ID,
            run_id,
        )

    # -- worker drill ------------------------------------------------------------------------------
    drill = {}
    if not args.no_drill:

        def drill_started():
            stored = query(
                "SELECT value FROM task_state_store WHERE dag_id = %s AND run_id = %s AND task_id = 'worker_drill'",
                DAG_ID,
                run_id,
            )
            row = query(
                "SELECT state, pid, try_number FROM task_instance WHERE dag_id = %s AND run_id = %s "
                "AND task_id = 'worker_drill'",
                DAG_ID,
                run_id,
            )
            if args.kill_before_store:  # kill as soon as the rerun is accepted, stored id or not
                accepted = emulator_state()["rules"][DRILL_RULE_ID]["reruns"] >= 1
                ready = accepted and row and row[0][0] == "running" and row[0][1]
                return ready and ((stored[0][0] if stored else "(not stored yet)"), row[0])
            return stored and row and row[0][0] == "running" and row[0][1] and (stored[0][0], row[0])

        stored, (state, task_pid, try_number) = d.wait(
            "worker_drill to start its run", drill_started, 180, 0.5, watch=core
        )
        table = proc_table()
        host = None
        for name, worker in workers.items():
            if task_pid in descendants(worker.pid, table):
                host = name
        if host is None:
            raise DeploymentError(f"worker_drill's task process {task_pid} is under no Celery worker")
        killed = kill_tree(workers[host].pid)
        kill_time = time.monotonic()
        d.wait(f"{host} to be gone", lambda: not any(alive(p) for p in killed), 15)
        log(
            f"worker drill: worker_drill (try {try_number}, run {stored}) waits in {host}; "
            f"SIGKILLed {host}'s {len(killed)} processes (celery, pool, supervisor, task)"
        )
        core.remove(workers[host])
        replacement = f"{host}-restarted"
        workers[replacement] = d.airflow(
            replacement, "celery", "worker", "--concurrency", "4", "--skip-serve-logs",
            "--celery-hostname", f"{replacement}@%h", "--without-mingle", "--without-gossip",
        )  # fmt: skip
        core.append(workers[replacement])
        drill.update(host=host, stored=stored, killed_processes=len(killed), first_try=try_number)
        http(
            "PATCH",
            f"{base}/api/v2/pools/{GATE_POOL}?update_mask=slots",
            {"pool": GATE_POOL, "slots": 1, "include_deferred": False},
            token,
        )
        log("gate open: the load's tasks may start")

    # -- the load, sampled ---------------------------------------------------------------------------
    trig = TreeSampler()
    trig.roots.append(triggerer.pid)
    emu = TreeSampler()
    emu.roots.append(emulator.pid)
    timeline = []
    peak = {"running": 0, "running_mapped": 0, "deferred": 0, "queued": 0}
    running_at_peak_deferred = 0
    triggerer_drill: dict = {}
    mark_drill: dict = {}
    orphans: set = set()
    kill_at = 0.0
    wait_start = None
    wait_cpu0 = 0.0
    deadline = triggered_at + args.timeout
    final = None
    window = []  # (t, cpu seconds) for a 5 s moving CPU rate
    peak_cpu_pct = 0.0
    while True:
        now = time.monotonic()
        rows = tis()
        trig.sample()
        emu.sample()
        mapped = [r for r in rows if r[0] == "rerun_and_wait"]
        states: dict[str, int] = {}
        for r in rows:
            states[r[2] or "none"] = states.get(r[2] or "none", 0) + 1
        running = states.get("running", 0)
        deferred = states.get("deferred", 0)
        running_mapped = sum(1 for r in mapped if r[2] == "running")
        if deferred and wait_start is None:
            wait_start, wait_cpu0 = now, trig.cpu_seconds
        if wait_start is not None:
            window.append((now, trig.cpu_seconds))
            while window and now - window[0][0] > 5.0:
                window.pop(0)
            if len(window) > 1 and window[-1][0] - window[0][0] >= 2:
                rate = (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0]) * 100
                peak_cpu_pct = max(peak_cpu_pct, rate)
        peak["running"] = max(peak["running"], running)
        peak["running_mapped"] = max(peak["running_mapped"], running_mapped)
        peak["queued"] = max(peak["queued"], states.get("queued", 0))
        if deferred > peak["deferred"] or (deferred == peak["deferred"] and deferred):
            running_at_peak_deferred = (
                running if deferred > peak["deferred"] else max(running_at_peak_deferred, running)
            )
            peak["deferred"] = deferred
        triggers = dict(query("SELECT coalesce(triggerer_id, 0), count(*) FROM trigger GROUP BY 1") or [])
        timeline.append(
            {
                "t": round(now - triggered_at, 1),
                **{s: states.get(s, 0) for s in ("none", "scheduled", "queued", "running", "deferred",
                                                 "up_for_retry", "success", "failed")},
                "running_mapped": running_mapped,
                "triggers": sum(triggers.values()),
                "triggerer_rss_mb": round(trig.rss_kb / 1024, 1),
                "triggerer_cpu_s": round(trig.cpu_seconds, 2),
                "emulator_cpu_s": round(emu.cpu_seconds, 2),
            }
        )  # fmt: skip

        # Mark-failed drill: once mark_failed_drill's trigger runs in the triggerer (deferred, owned
        # by a triggerer and past its first, jittered poll), mark the task failed as a user would.
        mark_row = next((r for r in rows if r[0] == "mark_failed_drill"), None)
        if mark_row and mark_row[2] == "deferred" and "marked_at" not in mark_drill:
            mark_drill.setdefault("deferred_at", now)
            owned = query(
                "SELECT t.triggerer_id FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id "
                "WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.task_id = 'mark_failed_drill'",
                DAG_ID,
                run_id,
            )
            if owned and owned[0][0] and now - mark_drill["deferred_at"] > args.poll_interval + 2:
                http(
                    "PATCH",
                    f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/mark_failed_drill",
                    {"new_state": "failed"},
                    token,
                )
                mark_drill["marked_at"] = now
                log("mark-failed drill: mark_failed_drill, deferred in the triggerer, marked failed through the API")
        if "marked_at" in mark_drill and "cancelled_after_s" not in mark_drill:
            if emulator_state()["calls"].get("quality_cancel"):
                mark_drill["cancelled_after_s"] = round(now - mark_drill["marked_at"], 1)
                log(f"mark-failed drill: the run was cancelled in DataArts {mark_drill['cancelled_after_s']} s later")
            elif now - mark_drill["marked_at"] > 60:
                mark_drill["cancelled_after_s"] = None  # checked below: no cancel within a minute

        # Triggerer drill: mid-wait, once every mapped task has started (or 3/4 are deferred), and
        # after the mark-failed drill, whose cancel needs a live triggerer.
        drill_ready = "cancelled_after_s" in mark_drill
        if not args.no_drill and not triggerer_drill and drill_ready and len(mapped) == n and deferred:
            launched = all(r[2] not in (None, "scheduled", "queued", "running", "up_for_retry") for r in mapped)
            if launched or deferred >= 0.75 * n:
                old_job = query("SELECT max(id) FROM job WHERE job_type = 'TriggererJob'")[0][0]
                killed = kill_tree(triggerer.pid)
                kill_at = time.monotonic()
                orphans = {tid for tid, owner in query("SELECT id, triggerer_id FROM trigger") if owner == old_job}
                triggerer_drill = {
                    "at_s": round(kill_at - triggered_at, 1),
                    "deferred_at_kill": deferred,
                    "finished_at_kill": sum(1 for r in mapped if r[2] in TERMINAL),
                    "triggers_of_killed_triggerer": len(orphans),
                    "old_job": old_job,
                    "killed_processes": len(killed),
                }
                core.remove(triggerer)
                triggerer = d.airflow("triggerer-2", "triggerer", "--skip-serve-logs")
                core.append(triggerer)
                trig.roots.append(triggerer.pid)
                log(
                    f"triggerer drill: SIGKILLed the triggerer ({len(killed)} processes) holding {len(orphans)} "
                    f"triggers, {deferred} tasks deferred, {triggerer_drill['finished_at_kill']} finished; "
                    "started a new one"
                )
        if triggerer_drill and "taken_over_after_s" not in triggerer_drill:
            owners = dict(query("SELECT id, triggerer_id FROM trigger"))
            left = {tid: owners[tid] for tid in orphans if tid in owners}
            if all(owner not in (None, triggerer_drill["old_job"]) for owner in left.values()):
                triggerer_drill["taken_over_after_s"] = round(time.monotonic() - kill_at, 1)
                triggerer_drill["reassigned"] = len(left)
                triggerer_drill["new_job"] = sorted(set(left.values()))
                log(
                    f"triggerer drill: {len(left)} triggers of the killed triggerer reassigned to triggerer job "
                    f"{triggerer_drill['new_job']} {triggerer_drill['taken_over_after_s']} s after the kill "
                    f"({len(orphans) - len(left)} had fired or finished meanwhile)"
                )
        if drill and "retry_running_after_s" not in drill:
            row = next((r for r in rows if r[0] == "worker_drill"), None)
            if row and "detected_after_s" not in drill and (row[2] != "running" or row[3] > drill["first_try"]):
                drill["detected_after_s"] = round(time.monotonic() - kill_time, 1)
                log(f"worker drill: the scheduler failed try {drill['first_try']} ({row[2]}) "
                    f"{drill['detected_after_s']} s after the kill")  # fmt: skip
            if row and row[3] > drill["first_try"] and row[2] == "running":
                drill["retry_running_after_s"] = round(time.monotonic() - kill_time, 1)
                log(f"worker drill: try {row[3]} running {drill['retry_running_after_s']} s after the kill")

        run_state = query("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", DAG_ID, run_id)[0][0]
        all_terminal = rows and all(r[2] in TERMINAL for r in rows) and len(mapped) == n
        if len(timeline) % 10 == 1 or all_terminal:
            log(
                f"t={now - triggered_at:5.0f}s  run {run_state:8}  "
                + " ".join(f"{k}={v}" for k, v in sorted(states.items()))
                + f"  triggerer {trig.rss_kb / 1024:.0f} MB {trig.cpu_seconds:.1f} cpu-s"
            )
        if all_terminal and run_state in ("success", "failed"):
            final = rows
            wait_end = now
            break
        for component in core:
            if component.popen.poll() is not None:
                raise DeploymentError(f"{component.name} exited ({component.popen.returncode}):\n{component.tail()}")
        if now > deadline:
            raise DeploymentError(f"the DAG run did not finish within {args.timeout:.0f} s; states {states}")
        time.sleep(1.0)

    load_wall = wait_end - triggered_at
    state = emulator_state()

    # -- checks ----------------------------------------------------------------------------------------
    problems: list[str] = []
    by_index = {r[1]: r for r in final if r[0] == "rerun_and_wait"}
    if sorted(by_index) != list(range(n)):
        problems.append(f"mapped task indexes {sorted(by_index)[:5]}... are not 0..{n - 1}")
    wrong = [
        (job["index"], job["outcome"], job["fail_on_alarm"], by_index.get(job["index"], (0, 0, "missing"))[2])
        for job in jobs
        if by_index.get(job["index"], (0, 0, None))[2] != job["expected_state"]
    ]
    if wrong:
        problems.append(
            f"{len(wrong)} mapped tasks in the wrong state (index, verdict, fail_on_alarm, state): {wrong[:10]}"
        )
    others = {r[0]: r for r in final if r[0] != "rerun_and_wait"}
    if others.get("plan_jobs", (0, 0, None))[2] != "success":
        problems.append(f"plan_jobs ended {others.get('plan_jobs')}")
    drill_row = others.get("worker_drill")
    if not drill_row or drill_row[2] != "success":
        problems.append(f"worker_drill ended {drill_row}")
    if drill and drill_row and drill_row[3] < 2:
        problems.append(f"worker_drill was not retried after its worker died (try {drill_row[3]})")
    reruns = {rule_id: rule["reruns"] for rule_id, rule in state["rules"].items()}
    if state["calls"].get("quality_rerun") != reruns_expected:
        problems.append(f"emulator counted {state['calls'].get('quality_rerun')} reruns, expected {reruns_expected}")
    mark_row = others.get("mark_failed_drill")
    mark_drill["final_state"] = mark_row[2] if mark_row else None
    mark_drill["cancels"] = state["calls"].get("quality_cancel", 0)
    if "marked_at" not in mark_drill:
        problems.append("mark_failed_drill was never seen deferred in a triggerer, so never marked failed")
    elif mark_drill.get("cancelled_after_s") is None or mark_drill["cancels"] != 1:
        problems.append(f"marking mark_failed_drill failed cancelled its run {mark_drill['cancels']} times, not once")
    if mark_drill["final_state"] != "failed":
        problems.append(f"mark_failed_drill ended {mark_row}, not failed")
    twice = {rule_id: count for rule_id, count in reruns.items() if count != 1}
    if twice:
        problems.append(f"jobs not rerun exactly once: {dict(list(twice.items())[:10])}")
    instances = {str(i["task_id"]): i for i in state["instances"]}
    outcome = {job["rule_id"]: job["outcome"] for job in jobs}
    outcome |= {DRILL_RULE_ID: "SUCCESS", MARK_FAILED_RULE_ID: "FAILED"}  # FAILED: cancelled by on_kill
    bad_runs = {rid: i["run_status"] for rid, i in instances.items() if i["run_status"] != outcome.get(rid)}
    if len(state["instances"]) != reruns_expected or bad_runs:
        problems.append(f"{len(state['instances'])} runs in the emulator; runs with an unexpected status: {bad_runs}")
    xcoms = query(
        "SELECT task_id, map_index, value FROM xcom WHERE dag_id = %s AND run_id = %s AND key = 'instance'",
        DAG_ID,
        run_id,
    )
    seen = {}
    for task_id, map_index, value in xcoms:
        value = json.loads(value) if isinstance(value, str) else value
        seen[(task_id, map_index)] = value
    for job in jobs:
        value = seen.get(("rerun_and_wait", job["index"]))
        run = instances.get(job["rule_id"])
        if not value or not run or value.get("id") != str(run["id"]) or value.get("run_status") != job["outcome"]:
            problems.append(f"XCom instance of map index {job['index']} is {value}, its job's run is {run}")
            break
    leftover_triggers = query("SELECT count(*) FROM trigger")[0][0]

    # Verdict latency: from the moment the emulator ended a run to the end of its task (the
    # trigger's next poll, the event, the scheduler, a worker slot for execute_complete).
    ended = dict(query(
        "SELECT map_index, extract(epoch FROM end_date) FROM task_instance WHERE dag_id = %s AND run_id = %s "
        "AND task_id = 'rerun_and_wait'", DAG_ID, run_id,
    ))  # fmt: skip
    lags = sorted(
        float(ended[job["index"]]) - instances[job["rule_id"]]["end_time"] / 1000
        for job in jobs
        if ended.get(job["index"]) is not None and instances.get(job["rule_id"], {}).get("end_time")
    )
    latency = (
        {f"p{q}": round(lags[min(len(lags) - 1, int(len(lags) * q / 100))], 1) for q in (50, 95)}
        | {"max": round(lags[-1], 1)}
        if lags
        else {}
    )
    # Lookups vs list requests: a lookup is one list request at offset 0, more pages are extra.
    try:
        requests_log = http("GET", f"{emulator_url}/_emulator/log", timeout=60)
    except (OSError, DeploymentError):
        requests_log = []
    listing = [r for r in requests_log if r["method"] == "GET" and r["path"].endswith("/quality/instances")]
    lookups = sum(1 for r in listing if "offset=0" in r["query"].split("&") or "offset=" not in r["query"])
    # (The emulator keeps its last 100,000 requests: at N=1000 that is most, not all, of them.)
    if leftover_triggers:
        problems.append(f"{leftover_triggers} triggers left in the DB")
    reattached = None
    if drill:
        attempt_logs = glob.glob(
            str(d.run_dir / "airflow-home" / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}" / "task_id=worker_drill"
                / "attempt=*.log")
        )  # fmt: skip
        text = "\n".join(Path(p).read_text(errors="replace") for p in sorted(attempt_logs))
        reattached = "Reconnecting to existing job" in text
        drill["retry_reattached_in_log"] = reattached
        drill["final_try"] = drill_row[3] if drill_row else None
        drill["reruns_of_drill_job"] = reruns.get(DRILL_RULE_ID)
        if not reattached:
            problems.append("worker_drill's retry log has no 'Reconnecting to existing job'")
        if drill["reruns_of_drill_job"] != 1:
            problems.append(f"worker_drill's job was rerun {drill['reruns_of_drill_job']} times, not once")
    if not args.no_drill and not triggerer_drill:
        problems.append("the triggerer drill never ran (it waits for the mark-failed drill and the mapped tasks)")
    if triggerer_drill and "taken_over_after_s" not in triggerer_drill:
        problems.append("the killed triggerer's triggers were never seen taken over by the new one")

    wait_seconds = max(wait_end - (wait_start or wait_end), 1e-9)
    # Worker slots vs deferred waits, integrated over the run (task-seconds), and the slots in use
    # while at least half the peak number of tasks waited deferred.
    slot_seconds = {"running": 0.0, "deferred": 0.0}
    for before, after in itertools.pairwise(timeline):
        for key in slot_seconds:
            slot_seconds[key] += before[key] * (after["t"] - before["t"])
    plateau = [row["running"] for row in timeline if peak["deferred"] and row["deferred"] >= peak["deferred"] / 2]
    # Steady state: leave out the replacement triggerer's start-up (importing Airflow) after the kill.
    steady_from = (kill_at + 20 if triggerer_drill else (wait_start or wait_end) + 10) - triggered_at
    steady = [row for row in timeline if row["t"] >= steady_from]
    steady_cpu_pct = steady_peak_pct = None
    if len(steady) > 1 and steady[-1]["t"] > steady[0]["t"]:
        first, last = steady[0], steady[-1]
        steady_cpu_pct = round((last["triggerer_cpu_s"] - first["triggerer_cpu_s"]) / (last["t"] - first["t"]) * 100, 1)
        rates = []
        for i, row in enumerate(steady):
            back = next((r for r in reversed(steady[:i]) if row["t"] - r["t"] >= 5), None)
            if back:
                rates.append((row["triggerer_cpu_s"] - back["triggerer_cpu_s"]) / (row["t"] - back["t"]) * 100)
        steady_peak_pct = round(max(rates), 1) if rates else None
    report = {
        "n": n,
        "provider_code": provider_version(),
        "result": "PASS" if not problems else "FAIL",
        "problems": problems,
        "wall_time_s": {
            "total_until_checks": round(time.monotonic() - began, 1),
            "trigger_to_all_terminal": round(load_wall, 1),
        },
        "expected": {
            "success": sum(j["expected_state"] == "success" for j in jobs),
            "failed": sum(j["expected_state"] == "failed" for j in jobs),
        },
        "final_states": {s: sum(1 for r in by_index.values() if r[2] == s) for s in {r[2] for r in by_index.values()}},
        "peak": {**peak, "running_when_deferred_peaked": running_at_peak_deferred},
        "task_seconds": {key: round(value) for key, value in slot_seconds.items()},
        "running_while_half_peak_deferred": {
            "samples": len(plateau),
            "max": max(plateau, default=None),
            "mean": round(sum(plateau) / len(plateau), 2) if plateau else None,
        },
        "triggerer": {
            "peak_rss_mb": round(trig.peak_rss_kb / 1024, 1),
            "cpu_seconds_during_wait": round(trig.cpu_seconds - wait_cpu0, 1),
            "wait_seconds": round(wait_seconds, 1),
            "avg_cpu_pct_during_wait": round((trig.cpu_seconds - wait_cpu0) / wait_seconds * 100, 1),
            "peak_cpu_pct_5s": round(peak_cpu_pct, 1),
            "steady_from_s": round(steady_from, 1),
            "steady_avg_cpu_pct": steady_cpu_pct,
            "steady_peak_cpu_pct_5s": steady_peak_pct,
        },
        "emulator": {
            "calls": state["calls"],
            "peak_connections": state.get("peak_connections"),
            "cpu_seconds": round(emu.cpu_seconds, 1),
            "reruns_total": state["calls"].get("quality_rerun"),
            "jobs_rerun_more_than_once": len(twice),
            "requests_in_log": len(requests_log),
            "list_lookups_in_log": lookups,
            "list_requests_per_lookup": round(len(listing) / lookups, 2) if lookups else None,
        },
        "verdict_latency_s": latency,
        "worker_drill": drill,
        "triggerer_drill": triggerer_drill,
        "mark_failed_drill": {k: v for k, v in mark_drill.items() if not k.endswith("_at")},
        "durations_s": [args.min_duration, args.max_duration],
        "poll_interval_s": args.poll_interval,
    }
    (d.run_dir / "report.json").write_text(json.dumps(report, indent=2))
    with open(d.run_dir / "timeline.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(timeline[0]))
        writer.writeheader()
        writer.writerows(timeline)

    log("")
    log(f"== dataarts_load, N={n}: {report['result']}")
    log(f"   trigger -> every task terminal: {load_wall:.0f} s; final mapped states {report['final_states']} "
        f"(expected {report['expected']})")  # fmt: skip
    log(f"   peak task instances: running {peak['running']} (mapped {peak['running_mapped']}), "
        f"deferred {peak['deferred']} (running then: {running_at_peak_deferred}), queued {peak['queued']}")  # fmt: skip
    t = report["triggerer"]
    plateau_info = report["running_while_half_peak_deferred"]
    log(f"   worker slots: {report['task_seconds']['running']} running task-seconds vs "
        f"{report['task_seconds']['deferred']} deferred task-seconds; while >= {peak['deferred'] / 2:.0f} tasks were "
        f"deferred, running tasks averaged {plateau_info['mean']} (max {plateau_info['max']}) of 8 slots")  # fmt: skip
    log(f"   triggerer tree: peak RSS {t['peak_rss_mb']} MB; CPU {t['cpu_seconds_during_wait']} s over "
        f"{t['wait_seconds']} s of wait (avg {t['avg_cpu_pct_during_wait']} %, peak {t['peak_cpu_pct_5s']} % over 5 s, "
        f"that with the new triggerer's start-up; steady state avg {t['steady_avg_cpu_pct']} %, "
        f"peak {t['steady_peak_cpu_pct_5s']} %)")  # fmt: skip
    log(f"   emulator: reruns {report['emulator']['reruns_total']} (expected {reruns_expected}), jobs rerun twice "
        f"{len(twice)}, list calls {state['calls'].get('quality_list')}, peak connections "
        f"{state.get('peak_connections')}, CPU {report['emulator']['cpu_seconds']} s")  # fmt: skip
    log(f"   lookups (of the emulator's last {len(requests_log)} requests): {lookups} instance lookups took "
        f"{len(listing)} list requests "
        f"({report['emulator']['list_requests_per_lookup']} each); verdict latency (run ended -> task ended) "
        f"{latency}")  # fmt: skip
    if drill:
        log(f"   worker drill: SIGKILLed {drill['host']} mid-wait; worker_drill ended "
            f"{drill_row[2] if drill_row else None} on try {drill['final_try']}, retry reattached: {reattached}, "
            f"reruns of its job: {drill['reruns_of_drill_job']}")  # fmt: skip
    if triggerer_drill:
        log(f"   triggerer drill: SIGKILLed at t={triggerer_drill['at_s']} s with "
            f"{triggerer_drill['deferred_at_kill']} deferred; its {triggerer_drill.get('reassigned')} unfinished "
            f"triggers were taken over after {triggerer_drill.get('taken_over_after_s')} s")  # fmt: skip
    log(
        f"   mark-failed drill: marked failed while deferred; run cancelled {mark_drill['cancels']} time(s), "
        f"{mark_drill.get('cancelled_after_s')} s after; task ended {mark_drill['final_state']}"
    )
    for problem in problems:
        log(f"   PROBLEM: {problem}")
    log(f"   report: {d.run_dir / 'report.json'}, timeline: {d.run_dir / 'timeline.csv'}, logs: {d.logs}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())

"""``python -m airflow_provider_dataarts.emulator``: serve the emulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shlex
import signal
import sys

from airflow_provider_dataarts.emulator.server import EmulatorServer, connection_for
from airflow_provider_dataarts.emulator.service import (
    DEFAULT_AK,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    DEFAULT_WORKSPACE,
    DEMO_CONFIG_PATH,
    DataArtsService,
    EmulatorConfigError,
    demo_config,
)

DESCRIPTION = """\
Serve a local emulator of the DataArts Quality, DataArts Factory, CodeArts Check and IAM APIs
until interrupted (Ctrl-C or SIGTERM). It prints its URL, then the AIRFLOW_CONN_DATAARTS_DEFAULT
line that points Airflow's dataarts_default connection at it.
"""

EPILOG = f"""\
It starts with the demo set: the rules, jobs, check task and IAM user the example DAGs use.
They are in this file, also a sample of the --config format:
  {DEMO_CONFIG_PATH}
A config is a JSON object whose keys are all optional lists:
  rules        [{{"rule_id": "1001", "name": "orders", "rule_type": 1,
                 "outcomes": ["SUCCESS", "ALARMING"], "duration": 2}}]
               rule_type 1 is a quality job, 2 a comparison job; a rerun is RUNNING for
               duration seconds, then ends with the next outcome in turn
  jobs         ["load_orders"]: DataArts Factory job names
  check_tasks  ["2b31ed520a1c4bd6aebedb6e57a8c9d0"]: CodeArts Check task ids
  users        [{{"domain": "acme", "name": "airflow", "password": "..."}}]: for auth type password
  history      [{{"rule_id": "1001", "count": 500, "days": 30}}]: finished runs of a rule, to list

--config adds to the demo set; add --no-demo to start with only what the file lists.

examples:
  python -m airflow_provider_dataarts.emulator --port 8765
  export AIRFLOW_CONN_DATAARTS_DEFAULT="$(python -m airflow_provider_dataarts.emulator --print-connection)"
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_dataarts.emulator",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port, 0 for any free one (default 8765)")
    parser.add_argument("--ak", default=DEFAULT_AK, help=f"access key accepted (default {DEFAULT_AK})")
    parser.add_argument("--sk", default=DEFAULT_SK, help=f"secret key accepted (default {DEFAULT_SK})")
    parser.add_argument("--project-id", default=DEFAULT_PROJECT_ID, help="project id served (default %(default)s)")
    parser.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="workspace id served (default %(default)s)")
    parser.add_argument("--config", metavar="FILE", help="JSON file of rules, jobs, check tasks, users to add")
    parser.add_argument("--no-demo", action="store_true", help="start without the demo set")
    parser.add_argument("--token-ttl", type=float, default=24 * 3600, help="IAM token lifetime, seconds")
    parser.add_argument(
        "--print-connection",
        action="store_true",
        help="print the connection JSON for these options (the value of AIRFLOW_CONN_DATAARTS_DEFAULT) and exit",
    )
    return parser


def _read_config(parser: argparse.ArgumentParser, path: str) -> dict:
    try:
        with open(path) as file:
            return json.load(file)
    except OSError as error:
        parser.error(f"--config {path}: {error.strerror}")
    except ValueError as error:
        parser.error(f"--config {path}: not valid JSON: {error}")


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    connection = connection_for(
        f"http://{args.host}:{args.port}", ak=args.ak, sk=args.sk, project_id=args.project_id, workspace=args.workspace
    )
    if args.print_connection:
        if args.port == 0:
            parser.error("--print-connection needs a fixed --port (0 picks one only when serving)")
        print(json.dumps(connection))
        return
    service = DataArtsService(
        ak=args.ak, sk=args.sk, project_id=args.project_id, workspaces=(args.workspace,), token_ttl=args.token_ttl
    )
    configs = [("the demo set", demo_config())] if not args.no_demo else []
    if args.config:
        configs.append((f"--config {args.config}", _read_config(parser, args.config)))
    for name, config in configs:
        try:
            service.load(config)
        except EmulatorConfigError as error:
            parser.error(f"{name}: {error}")
    # Hold many keep-alive clients: raise the open-file limit as far as the hard limit allows.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_serve(EmulatorServer(service, args.host, args.port), connection))


async def _serve(server: EmulatorServer, connection: dict) -> None:
    await server.start()
    connection = {**connection, "host": server.url}  # the port actually bound, when --port 0
    print(f"DataArts emulator listening on {server.url}", flush=True)
    print(f"export AIRFLOW_CONN_DATAARTS_DEFAULT={shlex.quote(json.dumps(connection))}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()
    print("DataArts emulator stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

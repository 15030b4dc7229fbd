"""``python -m airflow_provider_dataarts.emulator``: serve the emulator until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import sys

from airflow_provider_dataarts.emulator.server import EmulatorServer
from airflow_provider_dataarts.emulator.service import (
    DEFAULT_AK,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    DEFAULT_WORKSPACE,
    DataArtsService,
)

# What a bare emulator knows, so that the example DAGs run against it as they are.
DEMO_CONFIG = {
    "rules": [
        {
            "rule_id": "1200372516590559232",
            "name": "orders_not_null",
            "rule_type": 1,
            "outcomes": ["SUCCESS"],
            "duration": 3,
        },
        {
            "rule_id": "1200372516590559233",
            "name": "orders_freshness",
            "rule_type": 1,
            "outcomes": ["ALARMING"],
            "duration": 2,
        },
        {
            "rule_id": "1440764172232392705",
            "name": "orders_vs_warehouse",
            "rule_type": 2,
            "outcomes": ["SUCCESS"],
            "duration": 4,
        },
    ],
    "jobs": ["load_orders", "refresh_dashboards"],
    "check_tasks": ["2b31ed520a1c4bd6aebedb6e57a8c9d0"],
    "users": [{"domain": "demo-account", "name": "airflow", "password": "demo-password"}],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_dataarts.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port, 0 for any free one (default 8765)")
    parser.add_argument("--ak", default=DEFAULT_AK, help=f"access key accepted (default {DEFAULT_AK})")
    parser.add_argument("--sk", default=DEFAULT_SK, help="secret key accepted (default: the documented demo key)")
    parser.add_argument("--project-id", default=DEFAULT_PROJECT_ID, help="project id served")
    parser.add_argument("--workspace", default=DEFAULT_WORKSPACE, help="workspace id served")
    parser.add_argument("--config", help="JSON file with rules, jobs, check_tasks and users (default: the demo set)")
    parser.add_argument("--token-ttl", type=float, default=24 * 3600, help="IAM token lifetime, seconds")
    args = parser.parse_args(argv)
    config = DEMO_CONFIG
    if args.config:
        with open(args.config) as file:
            config = json.load(file)
    service = DataArtsService(
        ak=args.ak, sk=args.sk, project_id=args.project_id, workspaces=(args.workspace,), token_ttl=args.token_ttl
    )
    service.load(config)
    # Hold many keep-alive clients: raise the open-file limit as far as the hard limit allows.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_serve(EmulatorServer(service, args.host, args.port)))


async def _serve(server: EmulatorServer) -> None:
    await server.start()
    print(f"DataArts emulator listening on {server.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()
    print("DataArts emulator stopped", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()

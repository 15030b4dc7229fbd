"""A local emulator of the DataArts Studio, CodeArts Check and IAM APIs this provider calls.

Run it with ``python -m airflow_provider_dataarts.emulator --port 8765``, or in-process::

    from airflow_provider_dataarts.emulator import Emulator

    with Emulator() as emulator:
        emulator.service.add_rule("1001", outcomes=["ALARMING"], duration=2)
        os.environ["AIRFLOW_CONN_DATAARTS_DEFAULT"] = emulator.connection_json()
        ...
        assert emulator.service.calls["quality_rerun"] == 1

It verifies AK/SK signatures and IAM tokens, keeps the state of quality jobs and
their run instances, Factory jobs and check tasks, plays run lifecycles
(RUNNING, then the rule's next outcome after its ``duration``), counts calls
per endpoint and injects faults per path pattern (:class:`Fault`).
"""

from __future__ import annotations

from airflow_provider_dataarts.emulator.server import Emulator, EmulatorServer, connection_for
from airflow_provider_dataarts.emulator.service import (
    DEFAULT_AK,
    DEFAULT_PROJECT_ID,
    DEFAULT_SK,
    DEFAULT_WORKSPACE,
    DataArtsService,
    Fault,
    Rule,
)

__all__ = [
    "DEFAULT_AK",
    "DEFAULT_PROJECT_ID",
    "DEFAULT_SK",
    "DEFAULT_WORKSPACE",
    "DataArtsService",
    "Emulator",
    "EmulatorServer",
    "Fault",
    "Rule",
    "connection_for",
]

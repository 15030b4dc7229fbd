"""Stop a CodeArts Check task, for example one started by a pipeline that was cancelled."""

from __future__ import annotations

from datetime import datetime

try:
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.11
    from airflow.models.dag import DAG
    from airflow.models.param import Param

from airflow_provider_dataarts.operators.check import CheckTaskStopOperator

with DAG(
    dag_id="example_dataarts_check",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "check_task_id": Param(
            "2b31ed520a1c4bd6aebedb6e57a8c9d0",
            type="string",
            minLength=1,
            maxLength=32,
            description="CodeArts Check task id",
        )
    },
    tags=["dataarts", "example"],
) as dag:
    CheckTaskStopOperator(task_id="stop_check_task", check_task_id="{{ params.check_task_id }}")

"""Daily data-quality gate: make sure a quality job is scheduled, rerun checks and wait for verdicts.

The rule ids are DAG params, so a manual run from the UI can point the DAG at other jobs.
Against the bundled emulator (``make demo``) these ids exist out of the box.
"""

from __future__ import annotations

from datetime import datetime, timedelta

try:
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.11
    from airflow.models.dag import DAG
    from airflow.models.param import Param

from airflow_provider_dataarts.operators.quality import QualityJobActionOperator, RerunQualityOperator
from airflow_provider_dataarts.sensors.quality import QualityInstanceSensor

with DAG(
    dag_id="example_dataarts_quality",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1)},
    params={
        "orders_rule_id": Param("1200372516590559232", type="string", description="Quality job: orders not null"),
        "freshness_rule_id": Param("1200372516590559233", type="string", description="Quality job: freshness"),
        "comparison_rule_id": Param("1440764172232392705", type="string", description="Comparison job"),
    },
    tags=["dataarts", "example"],
) as dag:
    # Idempotent: keeps DataArts' own schedule of the job switched on.
    keep_scheduled = QualityJobActionOperator(
        task_id="keep_scheduled", rule_id="{{ params.orders_rule_id }}", action="start"
    )

    # Rerun now, then wait in the triggerer: no worker slot is held while DataArts runs.
    rerun_orders = RerunQualityOperator(task_id="rerun_orders_check", rule_id="{{ params.orders_rule_id }}")
    orders_verdict = QualityInstanceSensor(
        task_id="orders_verdict",
        instance_id="{{ ti.xcom_pull(task_ids='rerun_orders_check') }}",
        rule_type=1,
        deferrable=True,
        poke_interval=2,
        timeout=3600,
    )

    # One task that reruns and waits; an alarm on freshness is reported, not fatal.
    freshness = RerunQualityOperator(
        task_id="freshness_check",
        rule_id="{{ params.freshness_rule_id }}",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=2,
        timeout=3600,
        fail_on_alarm=False,
    )

    # A comparison job (rule_type 2), waited for in the worker.
    comparison = RerunQualityOperator(
        task_id="compare_with_warehouse",
        rule_id="{{ params.comparison_rule_id }}",
        rule_type=2,
        wait_for_completion=True,
        poll_interval=2,
        timeout=3600,
    )

    keep_scheduled >> rerun_orders >> orders_verdict >> [freshness, comparison]

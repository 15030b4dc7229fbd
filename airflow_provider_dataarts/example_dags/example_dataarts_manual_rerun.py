"""Rerun any quality or comparison job by hand: "Trigger DAG" in the UI, fill in the form, get the verdict."""

from __future__ import annotations

from datetime import datetime

try:
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.11
    from airflow.models.dag import DAG
    from airflow.models.param import Param

from airflow_provider_dataarts.operators.quality import RerunQualityOperator

with DAG(
    dag_id="example_dataarts_manual_rerun",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "rule_id": Param(
            "1200372516590559232",
            type="string",
            title="Job id",
            description="Id of the quality job or comparison job to rerun",
        ),
        "rule_type": Param(
            1,
            type="integer",
            enum=[1, 2],
            values_display={1: "1 - quality job", 2: "2 - comparison job"},
            title="Job type",
            description="1: quality job, 2: comparison job",
        ),
        "workspace": Param(
            None,
            type=["null", "string"],
            title="Workspace id",
            description="Leave empty for the connection's workspace",
        ),
    },
    render_template_as_native_obj=True,
    tags=["dataarts", "example"],
) as dag:
    RerunQualityOperator(
        task_id="rerun_and_wait",
        rule_id="{{ params.rule_id }}",
        rule_type="{{ params.rule_type }}",
        workspace="{{ params.workspace }}",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=2,
        timeout=6 * 3600,
    )

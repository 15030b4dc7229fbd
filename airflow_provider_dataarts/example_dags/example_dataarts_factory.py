"""Nightly load: start a DataArts Factory job with parameters, then stop a job that must not overlap."""

from __future__ import annotations

from datetime import datetime

try:
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2.11
    from airflow.models.dag import DAG
    from airflow.models.param import Param

from airflow_provider_dataarts.operators.factory import FactoryJobStartOperator, FactoryJobStopOperator

with DAG(
    dag_id="example_dataarts_factory",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "job_name": Param("load_orders", type="string", description="DataArts Factory job to start"),
        "source": Param("erp", type="string", enum=["erp", "crm"], description="Source system"),
    },
    tags=["dataarts", "example"],
) as dag:
    stop_refresh = FactoryJobStopOperator(task_id="stop_dashboard_refresh", job_name="refresh_dashboards")

    load = FactoryJobStartOperator(
        task_id="start_load",
        job_name="{{ params.job_name }}",
        # Rendered per run; sent as the API's [{"name": ..., "value": ...}] list.
        job_params={"bizdate": "{{ ds }}", "source": "{{ params.source }}", "parallelism": 4},
    )

    stop_refresh >> load

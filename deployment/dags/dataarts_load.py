"""Load DAG for ``make deployment-test``: rerun N quality jobs at once and wait for every verdict deferred.

Trigger it with ``{"n": N}`` as the run's conf. ``plan_jobs`` turns N into the jobs of
``load_plan.plan`` and ``rerun_and_wait`` is mapped over them: each mapped task reruns one
quality job, then waits for the verdict in the triggerer (``deferrable=True``), holding no
worker slot. The emulator ends the runs at spread-out times with SUCCESS, FAILED or ALARMING,
so each task's final state is known in advance (``load_plan.expected_state``).

``worker_drill`` is one rerun that waits in the worker (``deferrable=False``) on a long run:
the harness SIGKILLs the Celery worker running it, and Airflow's retry must reattach to the
same run (``task_state_store``), not rerun the job.

``mark_failed_drill`` is one deferred rerun on a run that does not end by itself: the harness
marks it failed through the REST API while it waits, and the trigger's ``on_kill`` must cancel
the run in DataArts.

``plan_jobs`` and ``mark_failed_drill`` run in the pool ``dataarts_load_gate``, which the
harness creates with 0 slots and opens after the worker drill, so that drill's SIGKILL hits
no load task (create the pool with 1 slot to run this DAG by hand).

Mapped tasks have no retries on purpose: a FAILED or ALARMING verdict fails the task, and a
retry would rerun the job; so every rerun the emulator counts is one the DAG asked for once.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, Param, task
from load_plan import DRILL_RULE_ID, MARK_FAILED_RULE_ID, mapped_kwargs

from airflow_provider_dataarts.operators.quality import RerunQualityOperator

POLL_INTERVAL = float(os.environ.get("DATAARTS_LOAD_POLL_INTERVAL", "5"))

with DAG(
    dag_id="dataarts_load",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    params={"n": Param(20, type="integer", minimum=1, maximum=1024, description="quality jobs to rerun")},
    tags=["dataarts", "deployment-test"],
) as dag:
    # The harness holds the load back (a pool of 0 slots) until its worker drill has struck.
    @task(retries=0, pool="dataarts_load_gate")
    def plan_jobs(params=None) -> list[dict]:
        return mapped_kwargs(int(params["n"]))

    RerunQualityOperator.partial(
        task_id="rerun_and_wait",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=3600,
        retries=0,
    ).expand_kwargs(plan_jobs())

    RerunQualityOperator(
        task_id="worker_drill",
        rule_id=DRILL_RULE_ID,
        wait_for_completion=True,
        deferrable=False,
        poll_interval=2,
        timeout=3600,
        retries=2,
        retry_delay=timedelta(seconds=2),
        priority_weight=1000,
    )

    RerunQualityOperator(
        task_id="mark_failed_drill",
        rule_id=MARK_FAILED_RULE_ID,
        wait_for_completion=True,
        deferrable=True,
        poll_interval=POLL_INTERVAL,
        timeout=3600,
        retries=0,
        pool="dataarts_load_gate",
        priority_weight=1000,
    )

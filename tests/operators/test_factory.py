"""DataArts Factory operators through real Airflow against the emulator."""

from __future__ import annotations

import pytest

from airflow_provider_dataarts.operators.factory import FactoryJobStartOperator, FactoryJobStopOperator
from tests.conftest import make_dag


@pytest.fixture
def service(emulator):
    emulator.service.add_job("load_orders")
    return emulator.service


def test_start_with_templated_params_then_stop(run_dag, service):
    with make_dag("factory_start_stop", params={"job": "load_orders", "region_code": "eu"}) as dag:
        start = FactoryJobStartOperator(
            task_id="start",
            job_name="{{ params.job }}",
            job_params={"bizdate": "{{ ds }}", "region": "{{ params.region_code }}", "batch": 3},
        )
        stop = FactoryJobStopOperator(task_id="stop", job_name="{{ params.job }}")
        start >> stop
    result = run_dag(dag)
    assert result.states == {"start": "success", "stop": "success"}
    job = service.jobs["load_orders"]
    assert (job.starts, job.stops, job.state) == (1, 1, "STOPPED")
    params = {p["name"]: p["value"] for p in job.last_params}
    assert params["region"] == "eu" and params["batch"] == "3" and len(params["bizdate"]) == 10
    assert result.rendered("start")["job_params"]["region"] == "eu"
    assert "dayu/dlf/" in result.link("start", "DataArtsFactoryJobLink")


@pytest.mark.parametrize("rendering", ["{{ params.job_params }}", "{{ params.job_params | tojson }}"])
def test_job_params_from_a_params_dict(run_dag, service, rendering):
    with make_dag(
        f"factory_params_{'json' if 'tojson' in rendering else 'repr'}", params={"job_params": {"a": "1", "b": "x y"}}
    ) as dag:
        FactoryJobStartOperator(task_id="start", job_name="load_orders", job_params=rendering)
    assert run_dag(dag).states == {"start": "success"}
    assert service.jobs["load_orders"].last_params == [{"name": "a", "value": "1"}, {"name": "b", "value": "x y"}]


def test_api_list_form_and_no_params(run_dag, service):
    with make_dag("factory_list_form") as dag:
        FactoryJobStartOperator(task_id="with_list", job_name="load_orders", job_params=[{"name": "a", "value": "1"}])
    run_dag(dag)
    assert service.jobs["load_orders"].last_params == [{"name": "a", "value": "1"}]


@pytest.mark.parametrize("operator", [FactoryJobStartOperator, FactoryJobStopOperator])
def test_unknown_job_fails_with_dlf_0100(run_dag, service, operator):
    with make_dag(f"factory_unknown_{operator.__name__}") as dag:
        operator(task_id="op", job_name="no_such_job")
    result = run_dag(dag)
    assert result.states == {"op": "failed"}
    assert "HTTP 400 DLF.0100: The job does not exists." in result.error("op")


def test_start_is_not_repeated_when_the_answer_is_lost(run_dag, service, emulator):
    service.add_fault(path="/start$", drop="after", times=1)
    with make_dag("factory_dropped") as dag:
        FactoryJobStartOperator(task_id="start", job_name="load_orders", hook_params={"retry_delay": 0.01})
    assert run_dag(dag).states == {"start": "failed"}
    assert service.jobs["load_orders"].starts == 1

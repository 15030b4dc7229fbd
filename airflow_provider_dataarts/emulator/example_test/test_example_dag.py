"""An example test of a DAG that uses the provider, through real Airflow against the emulator.

Copy it with ``conftest.py`` and import your own DAG instead. The emulator starts with the demo
set, which has the rules ``example_dataarts_quality`` uses; ``add_rule`` adds yours.
"""

from airflow_provider_dataarts.example_dags.example_dataarts_quality import dag

ORDERS_RULE = "1200372516590559232"


def test_the_quality_gate_passes(dataarts_emulator, dataarts_run_dag):
    result = dataarts_run_dag(dag)
    assert result.state == "success", result.states
    assert result.xcom("orders_verdict", "instance")["run_status"] == "SUCCESS"
    assert dataarts_emulator.service.calls["quality_rerun"] == 3


def test_a_failed_check_stops_the_gate(dataarts_emulator, dataarts_run_dag):
    dataarts_emulator.service.rules[ORDERS_RULE].outcomes = ["FAILED"]
    result = dataarts_run_dag(dag)
    assert result.states["orders_verdict"] == "failed"
    assert result.tries["orders_verdict"] == 1  # a verdict is final: no retry reruns the job

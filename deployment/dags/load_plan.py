"""The load plan: which quality jobs the load DAG reruns and what each one's verdict will be.

Shared by the DAG (``dataarts_load.py``, which reruns the jobs) and the harness
(``deployment/run.py``, which gives the emulator these rules and checks every task
against them), so both always agree on N, the rule ids and the expected outcomes.
Listed in ``.airflowignore``: it defines no DAG.
"""

from __future__ import annotations

# 19-digit ids, like DataArts' own: beyond float precision, so a mix-up would show.
BASE_RULE_ID = 7_300_000_000_000_000_000
DRILL_RULE_ID = "7299999999999999999"  # the non-deferrable rerun whose worker the drill kills
MARK_FAILED_RULE_ID = "7299999999999999998"  # the deferred rerun the harness marks failed mid-wait

# One outcome per i % 10: 6 SUCCESS, 2 FAILED, 1 ALARMING that fails the task, 1 ALARMING that
# only warns (fail_on_alarm=False). So 70 % of the mapped tasks succeed and 30 % fail.
PATTERN = [
    ("SUCCESS", True),
    ("SUCCESS", True),
    ("FAILED", True),
    ("SUCCESS", True),
    ("ALARMING", True),
    ("SUCCESS", True),
    ("FAILED", True),
    ("SUCCESS", True),
    ("ALARMING", False),
    ("SUCCESS", True),
]


def expected_state(outcome: str, fail_on_alarm: bool) -> str:
    """The Airflow state the task must end in, given its run's verdict."""
    if outcome == "SUCCESS" or (outcome == "ALARMING" and not fail_on_alarm):
        return "success"
    return "failed"


def plan(n: int, min_duration: float = 20.0, max_duration: float = 60.0) -> list[dict]:
    """``n`` jobs: rule id, name, outcome, fail_on_alarm, duration and the task state expected.

    Durations are spread evenly over ``[min_duration, max_duration]`` but scrambled (golden
    ratio), so finish times do not follow the order the tasks start in.
    """
    jobs = []
    for i in range(n):
        outcome, fail_on_alarm = PATTERN[i % len(PATTERN)]
        spread = (i * 0.6180339887498949) % 1.0
        jobs.append(
            {
                "index": i,
                "rule_id": str(BASE_RULE_ID + i),
                "name": f"load_rule_{i:04d}",
                "outcome": outcome,
                "fail_on_alarm": fail_on_alarm,
                "duration": round(min_duration + (max_duration - min_duration) * spread, 1),
                "expected_state": expected_state(outcome, fail_on_alarm),
            }
        )
    return jobs


def mapped_kwargs(n: int) -> list[dict]:
    """What the DAG expands over: one ``{rule_id, fail_on_alarm}`` per map index, in index order."""
    return [{"rule_id": job["rule_id"], "fail_on_alarm": job["fail_on_alarm"]} for job in plan(n)]

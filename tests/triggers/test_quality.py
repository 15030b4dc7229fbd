"""QualityInstanceTrigger: one event, restartable from its serialized form, polls only."""

from __future__ import annotations

import asyncio
import importlib
import json
import time

import pytest

from airflow_provider_dataarts.exceptions import DataArtsApiError
from airflow_provider_dataarts.transport import ASYNC_IN_FLIGHT
from airflow_provider_dataarts.triggers.quality import QualityInstanceTrigger

RULE = "1200372516590559232"
FAST = {"retry_limit": 2, "retry_delay": 0.01, "retry_max_delay": 0.05}


@pytest.fixture
def service(emulator):
    emulator.service.add_rule(RULE, "orders_not_null", outcomes=["SUCCESS"], duration=0.5)
    return emulator.service


def start_run(service):
    from airflow_provider_dataarts.hooks.dataarts import DataArtsHook

    started = int(time.time() * 1000)
    return DataArtsHook(**FAST).rerun_quality_job(RULE), started


def trigger(instance_id, started, **kwargs):
    kwargs.setdefault("poll_interval", 0.1)
    kwargs.setdefault("hook_params", FAST)
    return QualityInstanceTrigger(instance_id, rule_type=1, started_after=started, **kwargs)


async def events(trig):
    return [event.payload async for event in trig.run()]


def rebuild(trig):
    """What the triggerer does after a restart: store the trigger, then re-create it from the DB row."""
    from airflow.models.trigger import Trigger

    row = Trigger.from_object(trig)
    module, _, name = row.classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)(**row.kwargs)


def test_yields_exactly_one_event_with_everything_the_task_needs(service):
    instance_id, started = start_run(service)
    (event,) = asyncio.run(events(trigger(instance_id, started)))
    assert event["status"] == "success" and event["run_status"] == "SUCCESS"
    assert event["instance_id"] == instance_id and event["instance"]["id"] == instance_id
    assert json.loads(json.dumps(event)) == event


def test_serialized_kwargs_are_plain_json_and_round_trip(service):
    trig = trigger(
        "7531102693176115201",
        1795554803175,
        deadline=1795554903.5,
        not_found_deadline=1795555103.0,
        cancel_on_kill=True,
        workspace="ws1",
    )
    classpath, kwargs = trig.serialize()
    assert classpath == "airflow_provider_dataarts.triggers.quality.QualityInstanceTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert rebuild(trig).serialize() == (classpath, kwargs)


def test_restart_mid_wait_resumes_and_delivers_the_right_event(service):
    service.rules[RULE].outcomes = ["ALARMING"]
    service.rules[RULE].duration = 1.0
    instance_id, started = start_run(service)
    first = trigger(instance_id, started)

    async def interrupted():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(events(first), timeout=0.3)  # the triggerer dies mid-wait

    asyncio.run(interrupted())
    (event,) = asyncio.run(events(rebuild(first)))
    assert (event["status"], event["run_status"]) == ("alarm", "ALARMING")
    assert service.calls["quality_rerun"] == 1  # polling never reruns anything


def test_fail_on_alarm_false_turns_alarm_into_success(service):
    service.rules[RULE].outcomes = ["ALARMING"]
    instance_id, started = start_run(service)
    (event,) = asyncio.run(events(trigger(instance_id, started, fail_on_alarm=False)))
    assert (event["status"], event["run_status"]) == ("success", "ALARMING")


def test_failed_run(service):
    service.rules[RULE].outcomes = ["FAILED"]
    instance_id, started = start_run(service)
    (event,) = asyncio.run(events(trigger(instance_id, started)))
    assert (event["status"], event["run_status"]) == ("failed", "FAILED")


def test_deadline_gives_a_timeout_event(service):
    service.rules[RULE].duration = 60
    instance_id, started = start_run(service)
    began = time.monotonic()
    (event,) = asyncio.run(events(trigger(instance_id, started, deadline=time.time() + 0.3, poll_interval=5)))
    assert (event["status"], event["run_status"]) == ("timeout", "RUNNING")
    assert time.monotonic() - began < 5  # woke for the deadline, not after a full poll interval


def test_an_instance_never_listed_ends_with_not_found(service):
    (event,) = asyncio.run(events(trigger("123456", int(time.time() * 1000), not_found_deadline=time.time() + 0.2)))
    assert event["status"] == "not_found"


def test_api_errors_end_the_wait_with_an_error_event(service):
    service.add_fault(path="/quality/instances$", status=500, times=1)
    (event,) = asyncio.run(events(trigger("123456", int(time.time() * 1000))))
    assert event["status"] == "error" and "HTTP 500" in event["message"]
    json.dumps(event)  # the triggerer stores it
    rebuilt = DataArtsApiError(**event["api_error"])  # as the task raises it
    assert str(rebuilt) == event["message"] and rebuilt.to_dict() == event["api_error"]


@pytest.mark.parametrize("cancel_on_kill", [True, False])
def test_on_kill_cancels_only_a_run_the_task_started(service, cancel_on_kill):
    service.rules[RULE].duration = 60
    instance_id, started = start_run(service)
    asyncio.run(trigger(instance_id, started, cancel_on_kill=cancel_on_kill).on_kill())
    assert (service.instances[int(instance_id)].cancelled_ms is not None) is cancel_on_kill


def test_many_triggers_share_one_connection_pool(service, emulator):
    service.rules[RULE].duration = 1.0
    runs = [start_run(service) for _ in range(30)]
    before = emulator.server.accepted_connections

    async def all_waits():
        return await asyncio.gather(*(events(trigger(i, s)) for i, s in runs))

    results = asyncio.run(all_waits())
    assert [event["status"] for (event,) in results] == ["success"] * 30
    polls = service.calls["quality_list"]
    opened = emulator.server.accepted_connections - before
    assert opened <= ASYNC_IN_FLIGHT < polls  # a small pool reused across polls, never one connection per poll


def test_cancelled_trigger_closes_its_connection(service, emulator):
    # The answer comes after 1 s. A client that kept the socket would leave the connection open
    # (keep-alive) after it; one that closed it on cancel lets the server see EOF and close too.
    service.add_fault(path="/quality/instances$", latency=1.0, times=1)

    async def cancelled():
        task = asyncio.ensure_future(events(trigger("123456", int(time.time() * 1000))))
        await asyncio.sleep(0.3)  # the lookup is in flight
        assert emulator.open_connections == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # Checked while this event loop, and the shared client in it, are still alive.
        deadline = time.monotonic() + 3
        while emulator.open_connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return emulator.open_connections

    assert asyncio.run(cancelled()) == 0


def test_finished_trigger_leaves_its_connection_in_the_shared_pool(service, emulator):
    instance_id, started = start_run(service)

    async def finished():
        await events(trigger(instance_id, started))
        await asyncio.sleep(0.3)
        return emulator.open_connections

    assert asyncio.run(finished()) == 1  # kept alive for the next trigger's polls


def test_arguments_from_another_provider_version_are_ignored(service):
    """A rolling upgrade can hand an old triggerer a newer trigger's kwargs: wait anyway."""
    instance_id, started = start_run(service)
    (event,) = asyncio.run(events(trigger(instance_id, started, added_in_a_later_version=True)))
    assert event["status"] == "success"

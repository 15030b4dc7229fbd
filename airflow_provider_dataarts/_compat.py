"""Airflow names that moved between 2.11 and 3.x, each imported from the first place that has it.

Airflow moved these names one at a time (3.0 added ``airflow.sdk``; ``BaseHook`` joined it in
3.1, ``conf`` and the task exceptions in 3.2, ``ResumableJobMixin`` in 3.3), so no single
``try``/``except`` around a group of imports holds on every version. Each name is looked up
on its own, newest place first: the old places still work on newer Airflow but warn there.
This is what ``apache-airflow-providers-common-compat``'s ``sdk`` module does for Airflow's
own providers, without making it a dependency for five names.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

from airflow import __version__ as AIRFLOW_VERSION

#: ``(major, minor)`` of the running Airflow.
AIRFLOW_VERSION_INFO: tuple[int, ...] = tuple(int(part) for part in re.findall(r"\d+", AIRFLOW_VERSION)[:2])
#: Airflow 3 computes extra links in the worker and runs tasks through the task SDK.
AIRFLOW_V3 = AIRFLOW_VERSION_INFO >= (3, 0)


def first_of(name: str, *modules: str) -> Any:
    """``name`` from the first of ``modules`` that defines it.

    :raises ImportError: naming every place tried, when none has it.
    """
    for module in modules:
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise ImportError(f"cannot import {name} from {' or '.join(modules)} (Airflow {AIRFLOW_VERSION})")


if TYPE_CHECKING:
    from airflow.sdk import BaseHook, BaseOperator, BaseOperatorLink, BaseSensorOperator, conf
    from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout
    from airflow.sdk.log import mask_secret
else:
    BaseOperator = first_of("BaseOperator", "airflow.sdk", "airflow.models.baseoperator")
    BaseSensorOperator = first_of("BaseSensorOperator", "airflow.sdk", "airflow.sensors.base")
    BaseOperatorLink = first_of("BaseOperatorLink", "airflow.sdk", "airflow.models.baseoperatorlink")
    BaseHook = first_of("BaseHook", "airflow.sdk", "airflow.hooks.base")  # sdk: 3.1+
    conf = first_of("conf", "airflow.sdk.configuration", "airflow.configuration")  # sdk: 3.2+
    AirflowException = first_of("AirflowException", "airflow.sdk.exceptions", "airflow.exceptions")
    AirflowFailException = first_of("AirflowFailException", "airflow.sdk.exceptions", "airflow.exceptions")
    AirflowSensorTimeout = first_of("AirflowSensorTimeout", "airflow.sdk.exceptions", "airflow.exceptions")
    mask_secret = first_of("mask_secret", "airflow.sdk.log", "airflow.utils.log.secrets_masker")

__all__ = [
    "AIRFLOW_V3",
    "AIRFLOW_VERSION",
    "AIRFLOW_VERSION_INFO",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "conf",
    "first_of",
    "mask_secret",
]

"""Airflow names that moved between 2.11 and 3.x, imported from where each version keeps them.

Importing from the new place first keeps Airflow 3 free of deprecation warnings;
Airflow 2.11 has no ``airflow.sdk`` and falls back to the old places.
"""

from __future__ import annotations

try:
    from airflow.sdk import BaseHook, BaseOperator, BaseOperatorLink, BaseSensorOperator, conf
    from airflow.sdk.exceptions import AirflowSensorTimeout
    from airflow.sdk.log import mask_secret

    AIRFLOW_V3 = True
except ImportError:  # Airflow 2.11
    from airflow.configuration import conf  # type: ignore[no-redef]
    from airflow.exceptions import AirflowSensorTimeout  # type: ignore[no-redef]
    from airflow.hooks.base import BaseHook  # type: ignore[no-redef]
    from airflow.models import BaseOperator  # type: ignore[no-redef]
    from airflow.models.baseoperatorlink import BaseOperatorLink  # type: ignore[no-redef]
    from airflow.sensors.base import BaseSensorOperator  # type: ignore[no-redef]
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]

    AIRFLOW_V3 = False

__all__ = [
    "AIRFLOW_V3",
    "AirflowSensorTimeout",
    "BaseHook",
    "BaseOperator",
    "BaseOperatorLink",
    "BaseSensorOperator",
    "conf",
    "mask_secret",
]

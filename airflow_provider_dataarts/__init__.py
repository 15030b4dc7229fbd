"""Apache Airflow provider for Huawei Cloud DataArts Studio (Quality, Factory) and CodeArts Check."""

from __future__ import annotations

from typing import Any

PACKAGE = "airflow_provider_dataarts"

# Extra fields of the ``dataarts`` connection form. Airflow 3.2+ reads them from the provider
# info below without importing the hook; Airflow 2.11 gets the same fields from the hook.
CONNECTION_FIELDS: dict[str, dict[str, Any]] = {
    "region": {"label": "Region", "schema": {"type": ["string", "null"]}, "description": "For example cn-north-4"},
    "project_id": {"label": "Project ID", "schema": {"type": ["string", "null"]}},
    "workspace": {
        "label": "Workspace ID",
        "schema": {"type": ["string", "null"]},
        "description": "DataArts Studio workspace id; required for DataArts Quality",
    },
    "auth_type": {
        "label": "Auth type",
        "schema": {"type": ["string", "null"], "enum": ["aksk", "password", "token"], "default": "aksk"},
        "description": "aksk: Access/Secret Key; password: IAM user and password; token: a ready IAM token",
    },
    "domain_name": {
        "label": "Account (domain) name",
        "schema": {"type": ["string", "null"]},
        "description": "Only for auth type 'password'",
    },
    "security_token": {
        "label": "Security token",
        "schema": {"type": ["string", "null"], "format": "password"},
        "description": "Only for temporary AK/SK",
    },
    "endpoints": {
        "label": "Endpoint overrides (JSON)",
        "schema": {"type": ["string", "null"]},
        "description": 'Base URL per service: {"quality": "https://...", "factory": ..., "check": ..., "iam": ...}',
    },
    "verify": {
        "label": "TLS verification",
        "schema": {"type": ["string", "null"]},
        "description": "true (default), false, or the path of a CA bundle",
    },
    "timeout": {
        "label": "Timeout (seconds)",
        "schema": {"type": ["string", "null"]},
        "description": "One number, or [connect, read]; default [10, 60]",
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port"],
    "relabeling": {
        "login": "Access Key (AK) / IAM user name",
        "password": "Secret Key (SK) / IAM password / token",
        "host": "Base URL override (optional)",
    },
    "placeholders": {
        "login": "AK, or the IAM user name for auth type 'password'",
        "password": "SK, the IAM password, or the token for auth type 'token'",
        "host": "leave empty for the region's endpoints; e.g. http://127.0.0.1:8765 for the emulator",
        "region": "cn-north-4",
        "auth_type": "aksk",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Provider metadata read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""
    integration = "Huawei Cloud DataArts Studio"
    return {
        "package-name": "airflow-provider-dataarts",
        "name": "Huawei Cloud DataArts Studio",
        "description": "Run and watch DataArts Quality, DataArts Factory and CodeArts Check from Airflow.",
        "integrations": [
            {
                "integration-name": integration,
                "external-doc-url": "https://support.huaweicloud.com/intl/en-us/api-dataartsstudio/",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": integration,
                "python-modules": [
                    f"{PACKAGE}.operators.quality",
                    f"{PACKAGE}.operators.factory",
                    f"{PACKAGE}.operators.check",
                ],
            }
        ],
        "sensors": [{"integration-name": integration, "python-modules": [f"{PACKAGE}.sensors.quality"]}],
        "triggers": [{"integration-name": integration, "python-modules": [f"{PACKAGE}.triggers.quality"]}],
        "hooks": [{"integration-name": integration, "python-modules": [f"{PACKAGE}.hooks.dataarts"]}],
        "connection-types": [
            {
                "hook-class-name": f"{PACKAGE}.hooks.dataarts.DataArtsHook",
                "hook-name": "Huawei Cloud DataArts Studio",
                "connection-type": "dataarts",
                "conn-fields": CONNECTION_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "extra-links": [
            f"{PACKAGE}.links.DataArtsQualityLink",
            f"{PACKAGE}.links.DataArtsFactoryJobLink",
            f"{PACKAGE}.links.CodeArtsCheckTaskLink",
        ],
    }

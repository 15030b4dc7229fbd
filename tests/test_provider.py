"""The provider as Airflow sees it: registration, connection form, imports without warnings."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from importlib.metadata import version

from airflow_provider_dataarts import get_provider_info
from airflow_provider_dataarts._compat import AIRFLOW_V3, AIRFLOW_VERSION_INFO

MODULES = [
    "airflow_provider_dataarts.hooks.dataarts",
    "airflow_provider_dataarts.operators.quality",
    "airflow_provider_dataarts.operators.factory",
    "airflow_provider_dataarts.operators.check",
    "airflow_provider_dataarts.sensors.quality",
    "airflow_provider_dataarts.triggers.quality",
    "airflow_provider_dataarts.links",
    "airflow_provider_dataarts.emulator",
]


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# Airflow 3.2+ reads the form from the provider info; older versions only from the hook's
# classmethods, which import wtforms (Airflow 2.11 ships it; 3.0/3.1 only with the FAB provider).
FORM_FIELDS_SHOWN = AIRFLOW_VERSION_INFO >= (3, 2) or _has("wtforms")


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def cli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_provider_info_names_the_distribution_and_every_module():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-dataarts"
    listed = [
        m for group in ("operators", "sensors", "triggers", "hooks") for g in info[group] for m in g["python-modules"]
    ]
    assert sorted(listed) == sorted(m for m in MODULES if "links" not in m and "emulator" not in m)
    (conn,) = info["connection-types"]
    assert conn["connection-type"] == "dataarts"
    assert conn["hook-class-name"] == "airflow_provider_dataarts.hooks.dataarts.DataArtsHook"


def test_airflow_providers_list_shows_the_package_and_its_version():
    providers = {p["package_name"]: p for p in json.loads(cli("providers", "list", "-o", "json"))}
    assert providers["airflow-provider-dataarts"]["version"] == version("airflow-provider-dataarts")


def test_connection_type_and_form_fields_are_registered():
    out = run_python(
        "import json; from airflow.providers_manager import ProvidersManager as P; p = P();"
        "hooks = p.hooks; w = p.connection_form_widgets; b = p.field_behaviours;"
        "print(json.dumps({'hook': hooks['dataarts'].hook_class_name if hooks.get('dataarts') else None,"
        " 'fields': sorted(k for k in w if k.startswith('extra__dataarts__')), 'behaviour': b.get('dataarts')}))"
    )
    data = json.loads(out)
    assert data["hook"] == "airflow_provider_dataarts.hooks.dataarts.DataArtsHook"
    if not FORM_FIELDS_SHOWN:
        # Airflow 3.0/3.1 build form fields only from hook classmethods that need wtforms, which
        # comes with the FAB provider, not with Airflow: without it no provider's fields show.
        assert data["fields"] == [] and data["behaviour"] is None
        return
    assert {
        f"extra__dataarts__{name}" for name in ("region", "project_id", "workspace", "auth_type", "endpoints")
    } <= set(data["fields"])
    assert set(data["behaviour"]["hidden_fields"]) == {"schema", "port"}
    assert data["behaviour"]["relabeling"]["login"] == "Access Key (AK) / IAM user name"


def test_modules_import_without_deprecation_warnings_and_example_dags_parse():
    code = f"""
import warnings, glob, importlib, runpy, airflow
try:
    from airflow.sdk import DAG, BaseOperator
except ImportError:
    from airflow.models import DAG, BaseOperator
with DAG("warm_up", schedule=None):  # Airflow's own lazy imports (and their warnings) happen here
    BaseOperator(task_id="warm_up")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for module in {MODULES!r}:
        importlib.import_module(module)
    for path in glob.glob("airflow_provider_dataarts/example_dags/example_*.py"):
        runpy.run_path(path)
kinds = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
print([f"{{w.filename}}:{{w.lineno}}: {{w.message}}" for w in caught if issubclass(w.category, kinds)])
"""
    # Any deprecation warning raised while our modules import or the example DAGs parse is ours:
    # Airflow's own lazy imports (and warnings) are over once one operator of its own was built.
    assert run_python(code) == "[]"


def test_parsing_an_operator_module_does_not_import_http_libraries():
    """DAG files are parsed again and again: our modules add no HTTP client to what Airflow loads."""
    code = """
import sys
try:
    import airflow.sdk
except ImportError:
    import airflow.models.baseoperator, airflow.sensors.base
heavy = ("requests", "urllib3", "httpcore", "httpx", "tenacity", "huaweicloudsdkcore")
before = {m for m in heavy if m in sys.modules}
import airflow_provider_dataarts.operators.quality, airflow_provider_dataarts.operators.factory
import airflow_provider_dataarts.operators.check, airflow_provider_dataarts.sensors.quality
print(sorted(m for m in heavy if m in sys.modules and m not in before))
"""
    assert run_python(code) == "[]"


def test_ui_classmethods_serve_airflow_2_forms():
    from airflow_provider_dataarts.hooks.dataarts import DataArtsHook

    behaviour = DataArtsHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == ["schema", "port"]
    if not AIRFLOW_V3:  # wtforms and flask only come with Airflow 2
        widgets = DataArtsHook.get_connection_form_widgets()
        assert set(widgets) == set(get_provider_info()["connection-types"][0]["conn-fields"])

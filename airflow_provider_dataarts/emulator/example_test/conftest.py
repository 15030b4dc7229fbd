"""Copy this file next to your DAG tests: a throw-away Airflow home, and the DataArts fixtures."""

import os
import tempfile

# Before anything imports Airflow: its config and SQLite metadata DB go to a temporary directory.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

pytest_plugins = ["airflow_provider_dataarts.emulator.pytest_plugin"]

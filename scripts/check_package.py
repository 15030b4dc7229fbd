"""Build the wheel and sdist, check them, and prove the wheel alone makes a working provider.

``make package-check`` runs this: ``python -m build``; ``twine check``; a look inside the
wheel; then a fresh venv (outside the source tree) with Airflow from the pinned constraints
and only the wheel installed (once with the pinned constraints, once with plain pip as a user
adding us to an existing Airflow would), where every module must import without a deprecation
warning, ``airflow providers list`` must show the provider and
its version, ``airflow providers hooks`` the ``dataarts`` connection type, and the example
DAGs shipped in the wheel must parse with no import errors.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"


def run(*command: str, env: dict | None = None, cwd: Path | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd)
    if result.returncode != 0:
        sys.exit(f"FAILED: {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def last_json(output: str):
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    shutil.rmtree(DIST, ignore_errors=True)
    run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(DIST), str(ROOT))
    wheel, sdist = sorted(DIST.glob("*.whl"))[0], sorted(DIST.glob("*.tar.gz"))[0]
    print(run(sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)).strip())

    names = zipfile.ZipFile(wheel).namelist()
    expected = [
        "airflow_provider_dataarts/py.typed",
        "airflow_provider_dataarts/example_dags/example_dataarts_quality.py",
        "airflow_provider_dataarts/emulator/__main__.py",
        "airflow_provider_dataarts/emulator/demo.json",
        "airflow_provider_dataarts/emulator/example_test/test_example_dag.py",
        "airflow_provider_dataarts/hooks/dataarts.py",
    ]
    missing = [name for name in expected if name not in names]
    stray = [name for name in names if name.startswith(("tests/", "benchmarks/", "scripts/", "ui/", "deployment/"))]
    if missing or stray:
        sys.exit(f"FAILED: wheel content: missing {missing}, should not ship {stray}")
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    if "apache_airflow_provider" not in zipfile.ZipFile(wheel).read(entry_points).decode():
        sys.exit("FAILED: the wheel has no apache_airflow_provider entry point")
    print(f"{wheel.name}: {len(names)} files, entry point and package data present")

    airflow_version = version("apache-airflow")
    constraints = ROOT / "constraints" / f"airflow-{airflow_version}.txt"
    check_installed_wheel(wheel, airflow_version, ["-c", str(constraints)], "with the pinned constraints")
    # What a user gets who adds us to an existing Airflow: today's versions of everything else.
    check_installed_wheel(wheel, airflow_version, [], "with plain pip (no constraints)")


# Imports every module Airflow is told about (and the emulator) with every warning recorded, and
# prints the deprecation warnings any of them raised: there must be none, on every version.
# Airflow's own lazy imports (and their warnings, e.g. 2.11's metrics notice) happen first.
IMPORT_CHECK = """
import importlib, json, warnings
import airflow, airflow.triggers.base
try:
    from airflow.sdk import DAG, BaseOperator
except ImportError:
    from airflow.models import DAG, BaseOperator
with DAG("warm_up", schedule=None):
    BaseOperator(task_id="warm_up")
from airflow_provider_dataarts import get_provider_info
info = get_provider_info()
groups = [info[kind] for kind in ("operators", "sensors", "triggers", "hooks")]
modules = [module for group in groups for entry in group for module in entry["python-modules"]]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for module in [*modules, "airflow_provider_dataarts.links", "airflow_provider_dataarts.emulator"]:
        importlib.import_module(module)
kinds = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
print(json.dumps([f"{w.filename}:{w.lineno}: {w.message}" for w in caught if issubclass(w.category, kinds)]))
"""


def check_installed_wheel(wheel: Path, airflow_version: str, pip_args: list[str], how: str) -> None:
    """A fresh venv outside the tree with Airflow and only the wheel: Airflow must see a working provider."""
    with tempfile.TemporaryDirectory(prefix="dataarts-wheel-") as tmp:
        tmp_path = Path(tmp)
        venv = tmp_path / "venv"
        run(sys.executable, "-m", "venv", str(venv))
        python = str(venv / "bin" / "python")
        pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        run(*pip, *pip_args, f"apache-airflow=={airflow_version}", str(wheel), cwd=tmp_path)
        installed = Path(
            run(
                python,
                "-c",
                "import airflow_provider_dataarts, os; print(os.path.dirname(airflow_provider_dataarts.__file__))",
                cwd=tmp_path,
            ).strip()
        )
        if ROOT in installed.parents:
            sys.exit(f"FAILED: imported the source tree ({installed}), not the wheel")
        home = tmp_path / "home"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(installed / "example_dags"),
        }
        if airflow_version.startswith("2."):
            env["AIRFLOW__CORE__EXECUTOR"] = "SequentialExecutor"
        warned = last_json(run(python, "-c", IMPORT_CHECK, env=env, cwd=tmp_path))
        if warned:
            sys.exit(f"FAILED: importing our modules warned: {warned}")
        airflow = [python, "-m", "airflow"]
        providers = {
            p["package_name"]: p
            for p in last_json(run(*airflow, "providers", "list", "-o", "json", env=env, cwd=tmp_path))
        }
        ours = providers.get("airflow-provider-dataarts")
        if not ours or ours["version"] != version("airflow-provider-dataarts"):
            sys.exit(f"FAILED: airflow providers list shows {ours}")
        hooks = last_json(run(*airflow, "providers", "hooks", "-o", "json", env=env, cwd=tmp_path))
        dataarts = [h for h in hooks if h.get("connection_type") == "dataarts"]
        if not dataarts:
            sys.exit("FAILED: airflow providers hooks does not list the dataarts connection type")
        run(*airflow, "db", "migrate", env=env, cwd=tmp_path)
        run(*airflow, "dags", "reserialize", env=env, cwd=tmp_path)
        errors = last_json(run(*airflow, "dags", "list-import-errors", "-o", "json", env=env, cwd=tmp_path))
        dags = {d["dag_id"] for d in last_json(run(*airflow, "dags", "list", "-o", "json", env=env, cwd=tmp_path))}
        if errors or len([d for d in dags if d.startswith("example_dataarts_")]) != 4:
            sys.exit(f"FAILED: example DAGs from the wheel: import errors {errors}, parsed {sorted(dags)}")
        airflow_installed = run(python, "-c", "import airflow; print(airflow.__version__)", cwd=tmp_path).strip()
        print(
            f"Wheel alone in a fresh venv, Airflow {airflow_installed} {how}: provider {ours['version']} listed, "
            f"connection type dataarts ({dataarts[0].get('class')}), every module imports without a deprecation "
            f"warning, {len(dags)} example DAGs parse, no import errors"
        )


if __name__ == "__main__":
    main()

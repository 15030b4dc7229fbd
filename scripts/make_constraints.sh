#!/usr/bin/env bash
# Pin what `pip install apache-airflow==VERSION` (with our test and bench extras) resolved to on
# the day VERSION was released, the way Airflow's own constraints files are made (highest versions
# at release time), into constraints/airflow-VERSION.txt.
#
#   scripts/make_constraints.sh 3.1.8 2026-03-12
#
# Airflow publishes its constraints files outside the package registries this project may reach,
# so this rebuilds them from the registry: --uploaded-prior-to hides every file published later.
set -euo pipefail
version="$1" as_of="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
"${PYTHON:-python3.11}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=26"
PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --uploaded-prior-to "${as_of}T00:00:00Z" "apache-airflow==$version" -e "$root[test,bench]"
{
    echo "# apache-airflow==$version with this project's test and bench extras, as resolved from PyPI"
    echo "# on $as_of (release day + 1): scripts/make_constraints.sh $version $as_of"
    "$venv/bin/python" -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^pip=='
} >"$root/constraints/airflow-$version.txt"
echo "wrote constraints/airflow-$version.txt"

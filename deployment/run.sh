#!/usr/bin/env bash
# make deployment-test: the provider on a real Airflow 3.3 deployment (PostgreSQL, Redis,
# CeleryExecutor with two workers, scheduler, DAG processor, triggerer, API server) against the
# bundled emulator, under load and with SIGKILLed workers and triggerers. See deployment/run.py.
#
#   deployment/run.sh                 N=20 (what CI runs)
#   deployment/run.sh --n 200         or N=200 deployment/run.sh; --help for the other knobs
#
# Installs what is missing: Debian's postgresql and redis-server (apt-get), and a virtualenv
# (.venv-deploy, Python 3.11) with apache-airflow[celery]==3.3.2, psycopg2, asyncpg and this
# package, pinned by constraints/airflow-3.3.2.txt plus deployment/constraints.txt. Everything
# it starts listens on 127.0.0.1 only and is ended by PID when it exits, whatever happened.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
AIRFLOW_VERSION=3.3.2
VENV="${DEPLOY_VENV:-$ROOT/.venv-deploy}"
RUN_DIR="${DEPLOY_RUN_DIR:-$ROOT/.deploy-run}"
export DEPLOY_RUN_DIR="$RUN_DIR"
began=$SECONDS

# 1. Debian packages (apt waits up to 5 minutes for another apt to release its lock).
need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || need+=(redis-server)
if ((${#need[@]})); then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    APT=($SUDO env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -o DPkg::Lock::Timeout=300 -y -qq)
    echo "installing ${need[*]} with apt-get"
    "${APT[@]}" install --no-install-recommends "${need[@]}" >/dev/null ||
        { "${APT[@]}" update >/dev/null && "${APT[@]}" install --no-install-recommends "${need[@]}" >/dev/null; }
fi

# 2. The virtualenv, rebuilt when the pins or the package's metadata change.
key="$(cat "constraints/airflow-$AIRFLOW_VERSION.txt" deployment/constraints.txt pyproject.toml | sha256sum | cut -c1-16)"
if [ "$(cat "$VENV/.deploy-installed" 2>/dev/null)" != "$key" ]; then
    echo "creating $VENV (apache-airflow[celery]==$AIRFLOW_VERSION, psycopg2, asyncpg, -e .)"
    t=$SECONDS
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    timeout 900 "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c "constraints/airflow-$AIRFLOW_VERSION.txt" -c deployment/constraints.txt \
        "apache-airflow[celery]==$AIRFLOW_VERSION" psycopg2-binary asyncpg -e . \
        2> >(grep -v "^WARNING: Location 'file:" >&2)
    echo "$key" >"$VENV/.deploy-installed"
    echo "virtualenv ready in $((SECONDS - t)) s"
fi

# 3. The test. run.py ends what it started; should it itself be killed, this trap ends every
# process listed in RUN_DIR/pids (checked by start time, so never a recycled PID), with all
# its descendants (task processes run in process groups of their own), and removes its temp dir.
descendants() { local child; for child in $(pgrep -P "$1"); do echo "$child"; descendants "$child"; done; }
reap() {
    local pids="$RUN_DIR/pids" pid start name stat victims
    if [ -f "$pids" ]; then
        while read -r pid start name; do
            stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || continue
            [ "$(echo "${stat##*) }" | cut -d' ' -f20)" = "$start" ] || continue
            victims="$pid $(descendants "$pid")"
            echo "reaping $name (pid $pid and $(($(wc -w <<<"$victims") - 1)) descendants)"
            kill -STOP $victims 2>/dev/null || true
            kill -KILL -- "-$pid" $victims 2>/dev/null || true
        done <"$pids"
        rm -f "$pids"
    fi
    if [ -f "$RUN_DIR/tmpdir" ]; then
        rm -rf "$(cat "$RUN_DIR/tmpdir")" "$RUN_DIR/tmpdir"
    fi
}
trap reap EXIT
N="${N:-20}"
prev=""
for arg in "$@"; do  # --n N or --n=N on the command line beats the N variable
    case "$arg" in --n=*) N="${arg#--n=}" ;; esac
    [ "$prev" = "--n" ] && N="$arg"
    prev="$arg"
done
budget=$((900 + N * 4))
status=0
timeout -s TERM -k 60 "$budget" "$VENV/bin/python" -u deployment/run.py "$@" || status=$?
echo "deployment-test: exit $status after $((SECONDS - began)) s (installs included)"
exit "$status"

#!/usr/bin/env bash
# Set up a development environment in .venv (idempotent).
#   bash scripts/setup.sh          # Python packages pinned in requirements*.txt + tbwidgets (editable)
#   bash scripts/setup.sh --test   # also what the full test suite needs: Chromium (Debian) and JS packages
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch first and alone: a pinned CPU build, so nothing later pulls a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -r requirements.txt -r requirements-training.txt
.venv/bin/python -m pip install -q --no-deps -e .

if [ "$want_test" = 1 ]; then
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "Chromium is missing: run 'sudo apt-get install -y chromium' for the browser tests." >&2
    fi
  fi
  if [ -f js/package-lock.json ]; then
    (cd js && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "Environment ready: .venv ($(.venv/bin/python --version))"

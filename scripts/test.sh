#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint, types, the JS bundle and its tests, then every pytest group
# (unit, slow, notebooks via nbval, real-browser, Colab-versions). Run scripts/setup.sh --test first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy
if [ -f js/package.json ]; then
  echo "== js: unit tests and bundle freshness"
  (cd js && npm run --silent typecheck && npm test --silent && npm run --silent check-bundle)
fi
echo "== pytest (all groups)"
notebooks=$(ls template.ipynb training.ipynb examples/*.ipynb 2>/dev/null || true)
# training.ipynb opens the widget, then trains this many steps through the Python control (seconds)
export TBWIDGETS_NOTEBOOK_TRAIN_STEPS=${TBWIDGETS_NOTEBOOK_TRAIN_STEPS:-8}
python -m pytest -m "" tests $([ -n "$notebooks" ] && echo --nbval-lax --nbval-current-env $notebooks) "$@"

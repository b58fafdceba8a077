#!/usr/bin/env bash
# Install everything, lint and check the formatting (ruff, settings in pyproject.toml), then run the
# whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "[test]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"

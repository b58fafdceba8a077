#!/usr/bin/env bash
# Install everything, lint and check the formatting (ruff, settings in pyproject.toml), then run the
# whole test suite headless, one pytest worker per core (pytest-xdist; each test uses one torch
# thread, so a single process left a core idle). Arguments go to pytest after the defaults, so
# `bash scripts/test.sh -n 0 tests/core` runs one folder in this process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "[test]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -n auto --dist loadscope "$@"

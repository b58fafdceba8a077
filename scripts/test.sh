#!/usr/bin/env bash
# Install everything and run the whole test suite headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "[test]"
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest "$@"

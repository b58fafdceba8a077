#!/usr/bin/env bash
# Install everything and open Latent Forge on the shipped models.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -eq 0 ] && ! .venv/bin/python -c 'import sys
from gui.platform_check import platform_problem
problem = platform_problem()
if problem:
    print(problem, file=sys.stderr)
sys.exit(2 if problem else 0)'; then
    echo "run.sh: Latent Forge is installed, but Qt cannot open a window until the system packages above are" \
        "installed (README, \"System packages\"). The command line works now: .venv/bin/python main.py --help" >&2
    exit 2
fi
exec .venv/bin/python main.py "$@"

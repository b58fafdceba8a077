"""Latent Forge: with no arguments, open the desktop app; with a command, run it headless.

python main.py                      # the GUI
python main.py sample levels --out out/ -n 4 --seed 1
python main.py --help               # every command
"""

import sys


def main() -> int:
    if len(sys.argv) > 1:
        from generators.cli import main as cli_main

        return cli_main(sys.argv[1:])
    from gui.platform_check import platform_problem  # imports neither Qt nor torch

    problem = platform_problem()
    if problem is not None:
        # Qt would abort on loading its platform plugin, naming the plugin and not what it lacks.
        print(problem, file=sys.stderr)
        return 2
    try:
        from gui.app import run_app
    except ImportError as error:
        # PySide6 (or a system library it needs) is missing: say so, don't fall back silently.
        print(
            f"latent-forge: cannot start the desktop app ({error}); install PySide6, "
            "or run a command such as `python main.py --help`",
            file=sys.stderr,
        )
        return 2
    return run_app()


if __name__ == "__main__":
    sys.exit(main())

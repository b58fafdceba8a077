"""Latent Forge: with no arguments, open the desktop app; with a command, run it headless.

python main.py                      # the GUI
python main.py --threads 2          # the GUI, with torch's pool sized to 2 threads
python main.py sample levels --out out/ -n 4 --seed 1
python main.py --help               # every command
"""

import sys

from generators.core.threads import MAX_THREADS  # light: torch is imported only when the pool is sized


def app_threads(args: list[str]) -> int | None | str:
    """The app's `--threads N` (or `--threads=N`): N, None when absent, or the one-line error."""
    if not args:
        return None
    value = args[0].split("=", 1)[1] if args[0].startswith("--threads=") else (args[1] if len(args) == 2 else "")
    if not value.isdigit() or not 1 <= int(value) <= MAX_THREADS:
        given = repr(value) if value else "nothing"
        return f"latent-forge: error: --threads expects a whole number from 1 to {MAX_THREADS}, got {given}"
    return int(value)


def main() -> int:
    args = sys.argv[1:]
    opens_app = (
        not args or (args[0] == "--threads" and len(args) <= 2) or (len(args) == 1 and args[0].startswith("--threads="))
    )
    if not opens_app:
        from generators.cli import main as cli_main

        return cli_main(args)
    threads = app_threads(args)
    if isinstance(threads, str):
        print(threads, file=sys.stderr)
        return 2
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
    return run_app(threads=threads)


if __name__ == "__main__":
    sys.exit(main())

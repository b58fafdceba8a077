"""Record in a checkpoint's card what `train` now records there for cards written before it did:
whether each attribute direction does what its name says (`metrics.directions`, see
`generators/core/direction_check.py`). The app then offers no slider for a direction that failed.
The weights are not touched; the figures are the ones `eval` prints.

    python scripts/check_directions.py --checkpoint checkpoints/levels
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.core.checkpoint import checkpoint_paths, read_card, write_card  # noqa: E402
from generators.core.direction_check import direction_checks  # noqa: E402
from generators.registry import load_generator, resolve_checkpoint  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="NAME, NAME.safetensors or NAME.json")
    args = parser.parse_args(argv)
    generator = load_generator(args.checkpoint)
    report = direction_checks(generator)
    for name, figures in report.items():
        verdict = "kept" if figures["passes"] else "dropped"
        gained, eligible = figures["gained"], figures["eligible"]
        print(f"{name}: +3 made it appear in {gained} of {eligible} items that lacked it: {verdict}")
    if not report:
        print("no attribute direction to check (every label belongs to an exclusive group)")
        return 0
    _, card_path = checkpoint_paths(resolve_checkpoint(args.checkpoint))
    card = read_card(card_path)
    card.setdefault("metrics", {})["directions"] = report
    write_card(card_path, card)
    print(f"wrote metrics.directions to {card_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

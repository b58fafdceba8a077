"""Record in a checkpoint's card what `train` now records there for cards written before it did:
the label sets of its training items (`label_distribution`, what "any" draws from), what the domain
records of its training data (`Domain.training_card`: levels, the training levels' characters) and what `scan`
reads percentiles against (`scan_reference`: held-out items' scores, and for domains with scan
features the baseline fitted on training items; see generators/core/scan.py). It replaces the
older `typicality_reference`. The weights are not touched.

    python scripts/card_references.py --checkpoint checkpoints/levels \\
        --data ../shared/data/vglc/Super_Mario_Bros ../shared/data/vglc/Super_Mario_Bros_2_Japan

The items are the ones the card's data description and held-out rule give (`Domain.heldout_corpus`),
so the figures are exactly what `train` would have recorded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.core.checkpoint import checkpoint_paths, load_checkpoint, read_card, write_card  # noqa: E402
from generators.core.conditions import LabelDistribution  # noqa: E402
from generators.core.scan import scan_reference_card  # noqa: E402
from generators.registry import generator_from_checkpoint, resolve_checkpoint  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="NAME, NAME.safetensors or NAME.json")
    parser.add_argument("--data", nargs="+", required=True, help="the data the model was trained on")
    args = parser.parse_args(argv)
    _, card_path = checkpoint_paths(args.checkpoint)
    card = read_card(card_path)
    # The model is built without the old reference (one its domain no longer reads would refuse the
    # load); the card on disk keeps it until the new one is written.
    checkpoint = load_checkpoint(resolve_checkpoint(args.checkpoint))
    for key in ("scan_reference", "typicality_reference"):
        checkpoint.card.pop(key, None)
        card.pop(key, None)
    generator = generator_from_checkpoint(checkpoint)
    corpus = generator.domain.heldout_corpus([Path(p) for p in args.data], generator.card)
    distribution = LabelDistribution.from_vectors(generator.domain.conditions.labels, corpus.train.c.numpy())
    card["label_distribution"] = distribution.to_card()
    card.update(generator.domain.training_card(corpus.train))
    card["scan_reference"] = scan_reference_card(generator, corpus, log=print)
    write_card(card_path, card)
    shares = ", ".join(f"{label} {share:.3f}" for label, share in distribution.share().items())
    print(
        f"{card_path}: {len(corpus.train)} training items, {len(distribution.counts)} label sets; {shares}; "
        f"{len(card['scan_reference']['scores'])} held-out scores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the image classifier that `eval images` uses to check conditional samples.

    python scripts/train_image_classifier.py --data EMOJI_CACHE.npz --out checkpoints/images-classifier

It learns every exclusive label group of the data (emoji: category and art style) from the
training split only, the same split the images model trains on (held-out emoji are chosen
by a hash of their name), and records its held-out accuracy per group in its card.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators.core.checkpoint import companion_card  # noqa: E402
from generators.core.errors import UserError  # noqa: E402
from generators.images.classifier import accuracy, group_targets, save_classifier, train_classifier  # noqa: E402
from generators.images.domain import ImagesDomain  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True, metavar="PATH", help="emoji cache(s) or image folder(s)")
    parser.add_argument("--out", required=True, help="where to write NAME.safetensors and NAME.json")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="torch device to train on, e.g. cuda (default cpu)")
    args = parser.parse_args(argv)
    try:
        domain, corpus = ImagesDomain.prepare_training([Path(p) for p in args.data])
        started = time.perf_counter()
        model = train_classifier(
            corpus.train, domain.conditions, epochs=args.epochs, seed=args.seed, log=print, device=args.device
        )
        seconds = time.perf_counter() - started
        held = corpus.holdout
        scores = accuracy(model, held.x, group_targets(domain.conditions, held.c, model.config))
        train_scores = accuracy(model, corpus.train.x, group_targets(domain.conditions, corpus.train.c, model.config))
        training = {"epochs": args.epochs, "seed": args.seed, "device": args.device, "seconds": round(seconds, 1)}
        card = companion_card(args.out, sys.argv, corpus.description, model, training)
        card["heldout_accuracy"] = scores
        card["train_accuracy"] = train_scores
        card["chance_accuracy"] = {name: 1.0 / len(labels) for name, labels in model.config.groups}
        for path in save_classifier(args.out, model, card):
            print(path)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"held-out accuracy {scores} on {len(held)} images; training accuracy {train_scores}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The headless command line: `sample`, `interpolate`, `denoise`, `train` and `eval` for every domain.

User errors (bad files, flags, conditions or checkpoints) print one line to stderr and exit
2, with no traceback; nothing half-written is left, because every file is written
atomically and output folders are checked before slow work starts.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from generators.registry import DOMAIN_NAMES
from generators.core.errors import UserError
from generators.core.train import LR_SCHEDULES

EXIT_USER_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exits 2."""

    def error(self, message: str):  # noqa: D401 - argparse override
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def add_decoding_options(sub: argparse.ArgumentParser) -> None:
    """Options a domain may offer for turning decoder output into files (music has them)."""
    sub.add_argument("--sampling", choices=("count", "threshold", "bernoulli"),
                     help="music: the expected number of notes per step (default), notes above probability 0.5, "
                          "or draw each note (seeded)")
    sub.add_argument("--note-temperature", type=float, help="music: with --sampling bernoulli, sharpen (<1) or flatten (>1)")
    sub.add_argument("--four-tracks", action="store_true", help="music: one MIDI track per voice, by pitch order")


def apply_decoding_options(generator, args) -> None:
    """Set the decoding options given on the command line on the generator's domain, or
    refuse them for a domain that has no such option."""
    for option in ("sampling", "note_temperature", "four_tracks"):
        value = getattr(args, option, None)
        if value is None or value is False:
            continue
        if not hasattr(generator.domain, option):
            raise UserError(f"--{option.replace('_', '-')} does not apply to {generator.domain.name}")
        if option == "note_temperature" and not 0 < value <= 10:
            raise UserError(f"note temperature must be above 0 and at most 10, got {value}")
        setattr(generator.domain, option, value)


def add_level_length_options(sub: argparse.ArgumentParser, morph: bool = False) -> None:
    """--length: whole levels of many stitched windows (levels only)."""
    help_text = ("levels: write one level of COLUMNS columns (50-1000) that morphs from the start to the end "
                 "item, instead of --steps frames" if morph else
                 "levels: make each item a whole level of COLUMNS columns (50-1000), windows stitched at matched seams")
    sub.add_argument("--length", type=int, metavar="COLUMNS", help=help_text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="latent-forge",
        description="Latent Forge: generate levels, images and music with conditional VAEs. "
        "Run with no command to open the desktop app.",
    )
    commands = parser.add_subparsers(dest="command", parser_class=OneLineParser, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("domain", choices=DOMAIN_NAMES, metavar="DOMAIN", help="levels, images or music")
        return sub

    sample = add("sample", "Sample new items from a model.")
    sample.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    sample.add_argument("-n", type=positive_int, default=8, help="how many items (default 8)")
    sample.add_argument("--condition", nargs="*", default=[], metavar="LABEL", help="labels to turn on; others are off")
    sample.add_argument("--temperature", type=float, default=1.0, help="latent spread, 0 = the mean item (default 1)")
    sample.add_argument("--seed", type=int, help="seed of the first item; item i uses seed+i (default: random)")
    sample.add_argument("--format", help="file type to write, e.g. txt, png, tmj, tmx")
    sample.add_argument("--out", required=True, help="output folder")
    add_level_length_options(sample)
    sample.add_argument("--playable", action="store_true",
                        help="levels, with --length: repair levels the playability agent cannot finish; any the "
                        "repair budget cannot fix are still written, marked playable=no, and counted on stderr")
    sample.add_argument("--repair-budget", type=positive_int, default=24, metavar="N",
                        help="levels, with --playable: at most N repaired variants tried per level (default 24)")
    add_decoding_options(sample)
    sample.set_defaults(handler=run_sample)

    interp = add("interpolate", "Blend between two items, from files or seeds.")
    interp.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    start = interp.add_mutually_exclusive_group(required=True)
    start.add_argument("--from", dest="from_file", metavar="FILE", help="start from this file (encoded)")
    start.add_argument("--seed-a", type=int, help="start from the item of this seed")
    end = interp.add_mutually_exclusive_group(required=True)
    end.add_argument("--to", dest="to_file", metavar="FILE", help="end at this file (encoded)")
    end.add_argument("--seed-b", type=int, help="end at the item of this seed")
    interp.add_argument("--steps", type=positive_int, default=8, help="frames including both ends (default 8)")
    interp.add_argument("--mode", choices=("slerp", "lerp"), default="slerp")
    interp.add_argument("--condition", nargs="*", default=None, metavar="LABEL",
                        help="decode every frame under these labels (default: each end's own labels)")
    interp.add_argument("--format", help="file type to write")
    interp.add_argument("--out", required=True, help="output folder")
    add_level_length_options(interp, morph=True)
    add_decoding_options(interp)
    interp.set_defaults(handler=run_interpolate)

    train = add("train", "Train a model on a data folder.")
    train.add_argument("--data", nargs="+", required=True, metavar="PATH", help="data folder(s)")
    train.add_argument("--out", required=True, metavar="CHECKPOINT", help="where to write NAME.safetensors and NAME.json")
    train.add_argument("--epochs", type=positive_int, default=60)
    train.add_argument("--beta", type=float, default=1.0, help="KL weight; above 1 gives a smoother latent space")
    train.add_argument("--latent", type=positive_int, default=32, help="latent size")
    train.add_argument("--batch-size", type=positive_int, default=64)
    train.add_argument("--lr", type=positive_float, default=1e-3, help="Adam learning rate")
    train.add_argument("--lr-schedule", choices=LR_SCHEDULES, default="constant",
                       help="constant, or cosine: decay the rate to 0 by the last epoch (steadier final weights)")
    train.add_argument("--warmup", type=float, default=5.0, help="epochs of KL warm-up")
    train.add_argument("--free-bits", type=float, default=0.0, help="nats per latent dimension kept free of KL pressure")
    train.add_argument("--patience", type=int, default=0, help="early-stopping patience in epochs (0: off)")
    train.add_argument("--critic", type=float, default=0.0,
                       help="weight of the domain's condition critic on prior samples (music: the mode); 0: off")
    train.add_argument("--prior-components", type=int, default=0, metavar="K",
                       help="after training, fit a mixture prior of up to K components per condition to the "
                            "training codes and sample from it (0: the standard normal prior)")
    train.add_argument("--contractive", type=float, default=0.0,
                       help="weight of a contractive penalty on the encoder's Jacobian, for a smoother latent space")
    train.add_argument("--init", metavar="CHECKPOINT",
                       help="fine-tune this model (a shipped name or a checkpoint) on the data instead of starting afresh")
    train.add_argument("--holdout", nargs="*", default=[], metavar="NAME", help="items kept out of training, for eval")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--resume", action="store_true", help="continue an interrupted run of the same command")
    train.add_argument("--eval-samples", type=positive_int, default=1000, help="samples for the card's metrics")
    train.add_argument("--iwae-k", type=positive_int, default=500, help="importance samples for the card's IWAE bound")
    train.set_defaults(handler=run_train)

    denoise = add("denoise", "Clean files by passing them through a model: encode, then decode the mean.")
    denoise.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    denoise.add_argument("--in", dest="inputs", nargs="+", required=True, metavar="FILE", help="the files to clean")
    denoise.add_argument("--condition", nargs="*", default=None, metavar="LABEL",
                         help="encode and decode under these labels (default: what each file shows)")
    denoise.add_argument("--format", help="file type to write (default: the domain's first, e.g. png)")
    denoise.add_argument("--out", required=True, help="output folder; each FILE becomes STEM-denoised.EXT")
    denoise.set_defaults(handler=run_denoise)

    evaluate = add("eval", "Measure a model on its held-out data.")
    evaluate.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    evaluate.add_argument("--data", nargs="+", required=True, metavar="PATH", help="the data folder(s) it was trained on")
    evaluate.add_argument("--json", metavar="FILE", help="also write the metrics as JSON")
    evaluate.add_argument("--samples", type=positive_int, default=1000, help="generated items to measure")
    evaluate.add_argument("--iwae-k", type=positive_int, default=500, help="importance samples per held-out item")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--jsb", metavar="FILE", help="music: also run the JSB Chorales benchmark on this "
                          "jsb-chorales-quarter.json (trains the same architecture, several minutes)")
    evaluate.add_argument("--long-levels", type=int, default=100, metavar="N",
                          help="levels: also make N whole levels (raw and --playable) for completion rates and "
                          "expressive range, plotted beside --json (default 100; 0 skips)")
    evaluate.add_argument("--long-length", type=int, default=200, metavar="COLUMNS",
                          help="levels: columns of each whole level (default 200)")
    evaluate.add_argument("--repair-budget", type=positive_int, default=24, metavar="N",
                          help="levels: repaired variants tried per whole level for the --playable figures (default 24)")
    evaluate.set_defaults(handler=run_eval)
    return parser


# --- commands ---------------------------------------------------------------------------


def _generator(args):
    from generators.registry import load_generator

    return load_generator(args.checkpoint or args.domain, domain=args.domain)


def _format(generator, requested: str | None, batch: bool = True) -> str:
    fmt = (requested or generator.domain.write_formats[0]).lower().lstrip(".")
    return generator.domain.check_format(f"x.{fmt}", batch=batch)


def write_one_file(generator, fmt: str, assets: list, names: list[str], stem: Path, detail: str) -> None:
    """A batch format (a sprite sheet, an animation): every item in one file named after
    `stem`; prints that file with `detail`, then any companion (the sheet's atlas)."""
    path = stem.with_name(f"{stem.name}-sheet" if fmt == "sheet" else f"{stem.name}.{fmt}")
    report_written(generator.domain.write_batch(assets, names, path), detail, set())


def report_written(paths: list[Path], detail: str, listed: set) -> None:
    """Print the item's file with its detail, then any shared file (a tileset) once."""
    first, *shared = paths
    print(f"{first}\t{detail}")
    for path in shared:
        if path not in listed:
            listed.add(path)
            print(path)


def run_sample(args) -> int:
    from generators.core.fileio import ensure_writable_dir

    generator = _generator(args)
    apply_decoding_options(generator, args)
    generator.condition_labels(args.condition)  # unknown labels fail before any file is made
    fmt = _format(generator, args.format)
    if args.length is not None or args.playable:
        return sample_long_levels(generator, args, fmt)
    out = ensure_writable_dir(args.out)
    listed: set = set()
    items = generator.sample(args.n, args.condition, args.temperature, args.seed)
    if fmt in generator.domain.batch_formats:
        first, last = items[0].seed, items[-1].seed
        seeds = f"{first}-{last}" if last != first else f"{first}"
        write_one_file(generator, fmt, [i.asset for i in items], [f"{args.domain}-seed{i.seed}" for i in items],
                       out / f"{args.domain}-seed{seeds}", f"seeds={first}..{last}")
        return 0
    for item in items:
        path = out / f"{args.domain}-seed{item.seed}.{fmt}"
        report_written(generator.domain.write(item.asset, path), f"seed={item.seed}", listed)
    return 0


def _endpoint(generator, path: str | None, seed: int | None, condition) -> tuple:
    """(latent, labels, description) of one interpolation end."""
    if path is None:
        labels = generator.condition_labels(condition)
        return generator.latent_for_seed(seed, 1.0, labels), labels, f"seed:{seed}"
    asset = read_noting(generator, path)
    # What the file shows by itself; where it shows nothing (an image), the labels asked for.
    labels = generator.condition_labels(generator.domain.labels_of(asset) or condition)
    return generator.encode([asset], labels)[0], labels, f"file:{path}"


def run_interpolate(args) -> int:
    from generators.core.fileio import ensure_writable_dir

    generator = _generator(args)
    apply_decoding_options(generator, args)
    if args.condition is not None:
        generator.condition_labels(args.condition)
    fmt = _format(generator, args.format)
    if args.length is not None:
        check_long_levels(generator, args.length)
    z_a, labels_a, name_a = _endpoint(generator, args.from_file, args.seed_a, args.condition)
    z_b, labels_b, name_b = _endpoint(generator, args.to_file, args.seed_b, args.condition)
    if args.length is not None:
        return morph_long_level(generator, args, fmt, (z_a, labels_a, name_a), (z_b, labels_b, name_b))
    path_z = generator.interpolate(z_a, z_b, args.steps, args.mode)
    out = ensure_writable_dir(args.out)
    listed: set = set()
    frames = []
    for i, z in enumerate(path_z):
        t = 0.5 if args.steps == 1 else i / (args.steps - 1)
        labels = args.condition if args.condition is not None else (labels_a if t < 0.5 else labels_b)
        asset = generator.decode(z[None], labels)[0]
        if fmt in generator.domain.batch_formats:
            frames.append(asset)
            continue
        path = out / f"{args.domain}-interp{i:02d}.{fmt}"
        report_written(generator.domain.write(asset, path), f"t={t:.3f}\tfrom={name_a}\tto={name_b}", listed)
    if frames:
        write_one_file(generator, fmt, frames, [f"{args.domain}-interp{i:02d}" for i in range(len(frames))],
                       out / f"{args.domain}-interp", f"frames={len(frames)}\tfrom={name_a}\tto={name_b}")
    return 0


def check_long_levels(generator, length: int | None) -> None:
    """--length is for level models, and within bounds; checked before any file is made."""
    from generators.levels.stitch import check_length, stitch_support

    if generator.domain.name != "levels":
        raise UserError(f"--length and --playable apply to levels, not {generator.domain.name}")
    if stitch_support(generator.domain):
        raise UserError(f"--length and --playable: {stitch_support(generator.domain)}")
    if length is None:
        raise UserError("--playable needs --length: the agent plays whole levels")
    check_length(length)


def sample_long_levels(generator, args, fmt: str) -> int:
    """`sample levels --length`: item i is one stitched level from seed+i; with --playable,
    repaired towards playability and marked playable=yes/no."""
    import secrets

    from generators.core.fileio import ensure_writable_dir
    from generators.core.generator import check_seed
    from generators.levels.stitch import sample_long_level

    check_long_levels(generator, args.length)
    base = secrets.randbelow(2**31) if args.seed is None else check_seed(args.seed, args.n)
    out = ensure_writable_dir(args.out)
    listed: set = set()
    failed = []
    for seed in range(base, base + args.n):
        made = sample_long_level(generator, args.length, seed, args.condition, args.temperature,
                                 playable=args.playable, budget=args.repair_budget)
        detail = f"seed={seed}\tcolumns={made.level.width}"
        if args.playable:
            detail += f"\tplayable={'yes' if made.playable else 'no'}\tattempts={made.attempts}"
            if not made.playable:
                failed.append(seed)
        path = out / f"{args.domain}-seed{seed}-len{args.length}.{fmt}"
        report_written(generator.domain.write(made.level, path), detail, listed)
    if failed:
        print(f"warning: {len(failed)} of {args.n} levels are not playable after {args.repair_budget} repair "
              f"attempts each (seeds {', '.join(map(str, failed))}); they were written, marked playable=no",
              file=sys.stderr)
    return 0


def morph_long_level(generator, args, fmt: str, start: tuple, end: tuple) -> int:
    """`interpolate levels --length`: one level whose window k decodes the latent at
    t = k / (n - 1) from the start item to the end item."""
    from generators.core.fileio import ensure_writable_dir
    from generators.levels.stitch import StitchConfig, compose_level, morph_latents, window_count

    (z_a, labels_a, name_a), (z_b, labels_b, name_b) = start, end
    count = window_count(args.length, generator.domain.width, StitchConfig().overlap)
    latents = morph_latents(z_a, z_b, count, args.mode)
    ts = [k / max(count - 1, 1) for k in range(count)]
    labels = args.condition if args.condition is not None else [labels_a if t < 0.5 else labels_b for t in ts]
    made = compose_level(generator, latents, labels, args.length, seed=args.seed_a or 0)
    out = ensure_writable_dir(args.out)
    path = out / f"{args.domain}-morph-len{args.length}.{fmt}"
    report_written(generator.domain.write(made.level, path), f"columns={made.level.width}\tfrom={name_a}\tto={name_b}", set())
    return 0


def read_noting(generator, path: str):
    """Read a user's file, telling them on stderr if encoding changes it (a crop, a resize)."""
    asset = generator.domain.read(path)
    note = generator.domain.encoding_note(asset)
    if note:
        print(f"note: {path}: {note}", file=sys.stderr)
    return asset


def output_stems(paths: list[str]) -> list[str]:
    """A distinct file stem per input: its own, with -2, -3... added where two share one."""
    stems, seen = [], set()
    for path in paths:
        stem, n = Path(path).stem or "item", 1
        while (stem if n == 1 else f"{stem}-{n}") in seen:
            n += 1
        stems.append(stem if n == 1 else f"{stem}-{n}")
        seen.add(stems[-1])
    return stems


def run_denoise(args) -> int:
    from generators.core.fileio import ensure_writable_dir

    generator = _generator(args)
    if args.condition is not None:
        generator.condition_labels(args.condition)
    fmt = _format(generator, args.format, batch=False)
    assets = [read_noting(generator, path) for path in args.inputs]  # every input is checked before anything is written
    out = ensure_writable_dir(args.out)
    listed: set = set()
    for path, stem, asset in zip(args.inputs, output_stems(args.inputs), assets):
        labels = generator.condition_labels(args.condition if args.condition is not None else generator.domain.labels_of(asset))
        cleaned = generator.decode(generator.encode([asset], labels), labels)[0]  # the decoder's mean at the posterior mean
        written = generator.domain.write(cleaned, out / f"{stem}-denoised.{fmt}")
        report_written(written, f"from={path}\tcondition={','.join(labels)}", listed)
    return 0


class TerminalProgress:
    """A one-line progress bar on stderr, and a summary line per epoch."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.start = time.monotonic()
        self.tty = stream.isatty()

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        if self.tty and (step % 10 == 0 or step == steps):
            done = int(30 * step / steps)
            self.stream.write(f"\repoch {epoch} [{'#' * done}{'.' * (30 - done)}] {step}/{steps}")
            self.stream.flush()

    def on_epoch_end(self, record, total_epochs: int) -> None:
        elapsed = time.monotonic() - self.start
        left = elapsed / record.epoch * (total_epochs - record.epoch) if record.epoch else 0
        val = f" val -ELBO {record.val_negative_elbo:.2f}" if record.val_negative_elbo is not None else ""
        self.stream.write(
            f"\repoch {record.epoch}/{total_epochs} loss {record.train_loss:.2f} "
            f"(recon {record.train_reconstruction:.2f}, KL {record.train_kl:.2f}){val} "
            f"[{record.seconds:.1f}s, ~{left / 60:.1f} min left]\n"
        )
        self.stream.flush()


def run_train(args) -> int:
    from .training_run import TrainingRequest, train_and_save

    request = TrainingRequest(
        domain=args.domain,
        data=[Path(p) for p in args.data],
        out=Path(args.out),
        epochs=args.epochs,
        beta=args.beta,
        latent=args.latent,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        lr_schedule=args.lr_schedule,
        warmup=args.warmup,
        free_bits=args.free_bits,
        contractive=args.contractive,
        critic=args.critic,
        prior_components=args.prior_components,
        patience=args.patience,
        holdout=tuple(args.holdout),
        seed=args.seed,
        resume=args.resume,
        eval_samples=args.eval_samples,
        iwae_k=args.iwae_k,
        command=command_line(),
        init=args.init,
    )
    try:
        written = train_and_save(request, callbacks=[TerminalProgress()], log=lambda m: print(m, file=sys.stderr))
    except KeyboardInterrupt:
        print("\ninterrupted; the last finished epoch is saved: add --resume to continue", file=sys.stderr)
        return 130
    for path in written:
        print(path)
    return 0


def run_eval(args) -> int:
    from generators.core.evaluation import evaluate, format_table
    from generators.core.fileio import ensure_writable_file, write_text_atomic

    generator = _generator(args)
    if args.json:
        ensure_writable_file(args.json)
    from generators.levels.stitch import check_length, stitch_support

    # Whole levels only where windows can be stitched (not for music, images or Lode Runner screens).
    long_levels = 0 if stitch_support(generator.domain) else args.long_levels
    if long_levels:
        check_length(args.long_length)
    if long_levels < 0:
        raise UserError(f"--long-levels must be 0 or more, got {long_levels}")
    if args.jsb and generator.domain.name != "music":
        raise UserError("--jsb is the music benchmark; it does not apply to " + generator.domain.name)
    if args.jsb and not Path(args.jsb).is_file():
        raise UserError(f"{args.jsb} does not exist (expected jsb-chorales-quarter.json)")
    corpus = generator.domain.heldout_corpus(args.data, generator.card)
    report = evaluate(generator, corpus, iwae_k=args.iwae_k, samples=args.samples, seed=args.seed)
    if args.jsb:
        from generators.music.jsb import benchmark

        report["jsb_chorales"] = benchmark(Path(args.jsb), generator.latent_size, args.iwae_k)
    points = None
    if long_levels:
        from generators.levels.expressive import long_level_report

        report["long_levels"], points = long_level_report(generator, corpus, args.data, long_levels, args.long_length, args.seed,
                                                          args.repair_budget)
    print(format_table(report))
    if args.json:
        write_text_atomic(args.json, json.dumps(report, indent=2) + "\n")
        print(args.json)
        if points is not None:
            from generators.core.fileio import write_png_atomic
            from generators.levels.expressive import expressive_range_image, plot_path

            write_png_atomic(plot_path(args.json), expressive_range_image(points))
            print(plot_path(args.json))
    return 0


def command_line() -> str:
    """The command that is running, as a user would type it."""
    return "python main.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

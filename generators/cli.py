"""The headless command line: `sample`, `interpolate`, `denoise`, `train` and `eval` for every domain.

User errors (bad files, flags, conditions or checkpoints) print one line to stderr and exit
2, with no traceback; nothing half-written is left, because every file is written
atomically and output folders are checked before slow work starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import time
from pathlib import Path

from generators.core import naming
from generators.core.commands import (
    MAX_ITEMS,
    MAX_MEASURED,
    SEED,
    bounded_int,
    positive_float,
    positive_int,
    print_written,
    refuse_foreign_flags,
)
from generators.core.errors import UserError
from generators.core.generator import MAX_FRAMES
from generators.core.threads import MAX_THREADS
from generators.core.train import TrainConfig
from generators.registry import DOMAIN_NAMES, wing_commands

EXIT_USER_ERROR = 2
CHUNK = 256  # items sampled and written at a time
MAX_IN_ONE_FILE = 4096  # items a sprite sheet or an animation may hold


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exits 2."""

    def error(self, message: str):  # noqa: D401 - argparse override
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message}\n")


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
        sub.add_argument(
            "--threads",
            type=bounded_int(1, MAX_THREADS),
            metavar="N",
            help="CPU threads for torch (default: the CPUs this process may use, at most 8)",
        )
        return sub

    sample = add("sample", "Sample new items from a model.")
    sample.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    sample.add_argument("-n", type=bounded_int(1, MAX_ITEMS), default=8, help="how many items (default 8)")
    sample.add_argument(
        "--condition",
        nargs="*",
        default=[],
        metavar="LABEL",
        help="labels every item must show; labels not named are drawn as the training data has them",
    )
    sample.add_argument("--without", nargs="*", default=[], metavar="LABEL", help="labels no item may show")
    sample.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="latent spread, 0 = the mean item (default: the model's, 1 unless its card chose another)",
    )
    sample.add_argument("--seed", type=SEED, help="seed of the first item; item i uses seed+i (default: random)")
    sample.add_argument("--format", help="file type to write, e.g. txt, png, tmj, tmx")
    sample.add_argument("--out", required=True, help="output folder")
    sample.set_defaults(handler=run_sample)

    interp = add("interpolate", "Blend between two items, from files or seeds.")
    interp.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    start = interp.add_mutually_exclusive_group(required=True)
    start.add_argument("--from", dest="from_file", metavar="FILE", help="start from this file (encoded)")
    start.add_argument("--seed-a", type=SEED, help="start from the item of this seed")
    end = interp.add_mutually_exclusive_group(required=True)
    end.add_argument("--to", dest="to_file", metavar="FILE", help="end at this file (encoded)")
    end.add_argument("--seed-b", type=SEED, help="end at the item of this seed")
    interp.add_argument(
        "--steps", type=bounded_int(1, MAX_FRAMES), default=8, help="frames including both ends (default 8)"
    )
    interp.add_argument("--mode", choices=("slerp", "lerp"), default="slerp")
    interp.add_argument(
        "--condition",
        nargs="*",
        default=None,
        metavar="LABEL",
        help="labels every frame must show (default: each end's own labels); a seed's end takes them too",
    )
    interp.add_argument("--without", nargs="*", default=[], metavar="LABEL", help="labels no frame may show")
    interp.add_argument("--format", help="file type to write")
    interp.add_argument("--out", required=True, help="output folder")
    interp.set_defaults(handler=run_interpolate)

    train = add("train", "Train a model on a data folder.")
    train.add_argument("--data", nargs="+", required=True, metavar="PATH", help="data folder(s)")
    train.add_argument(
        "--out", required=True, metavar="CHECKPOINT", help="where to write NAME.safetensors and NAME.json"
    )
    train.add_argument(
        "--init",
        metavar="CHECKPOINT",
        help="fine-tune this model (a shipped name or a checkpoint) on the data instead of starting afresh",
    )
    train.add_argument("--holdout", nargs="*", default=[], metavar="NAME", help="items kept out of training, for eval")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run of the same command")
    add_settings_flags(train)
    train.set_defaults(handler=run_train)

    denoise = add(
        "denoise",
        "Clean files: through the asset kind's dedicated denoiser where one is shipped (images), "
        "else through the model (encode, then decode the mean).",
    )
    denoise.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    denoise.add_argument("--in", dest="inputs", nargs="+", required=True, metavar="FILE", help="the files to clean")
    denoise.add_argument(
        "--condition",
        nargs="*",
        default=None,
        metavar="LABEL",
        help="encode and decode under these labels (default: what each file shows)",
    )
    denoise.add_argument("--format", help="file type to write (default: the domain's first, e.g. png)")
    denoise.add_argument("--out", required=True, help="output folder; each FILE becomes STEM-denoised.EXT")
    denoise.set_defaults(handler=run_denoise)

    scan = add(
        "scan", "Rank the files of a folder from least to most typical for a model, and say where each goes wrong."
    )
    scan.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    scan.add_argument("--in", dest="folder", required=True, metavar="FOLDER", help="the folder to scan (recursively)")
    scan.add_argument(
        "--json",
        metavar="FILE",
        help="also write the ranking as JSON, and a PNG overlay per file in FILE's folder (STEM-overlays/)",
    )
    scan.set_defaults(handler=run_scan)

    evaluate = add("eval", "Measure a model on its held-out data.")
    evaluate.add_argument("--checkpoint", help="a checkpoint file (default: the shipped model)")
    evaluate.add_argument(
        "--data", nargs="+", required=True, metavar="PATH", help="the data folder(s) it was trained on"
    )
    evaluate.add_argument("--json", metavar="FILE", help="also write the metrics as JSON")
    evaluate.add_argument(
        "--samples", type=bounded_int(1, MAX_MEASURED), default=1000, help="generated items to measure"
    )
    evaluate.add_argument(
        "--iwae-k", type=bounded_int(1, MAX_MEASURED), default=500, help="importance samples per held-out item"
    )
    evaluate.add_argument("--seed", type=SEED, default=0)
    evaluate.add_argument(
        "--scan-anomalies",
        type=bounded_int(0, MAX_MEASURED),
        default=0,
        metavar="N",
        help="also plant N anomalies of each kind among the held-out items and report how well `scan` "
        "finds them: ROC AUC, precision at 10, localisation (default 0: off)",
    )
    evaluate.add_argument(
        "--scan-foreign",
        metavar="FOLDER",
        help="with --scan-anomalies: files of another set (e.g. sprites that are no emoji), read as `scan` "
        "reads files, reported as the other_set kind",
    )
    evaluate.set_defaults(handler=run_eval)
    for command, sub in commands.choices.items():
        for wing in wing_commands().values():  # each asset kind's own flags
            wing.add_flags(command, sub)
    return parser


SETTING_TYPES = {"whole": int, "number": float, "rate": positive_float}


def add_settings_flags(train: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, from its metadata: the flags and help are the config's. A flag
    not given stays None, so that the asset kind's own training defaults can fill it (`run_train`)."""
    for spec in dataclasses.fields(TrainConfig):
        meta = spec.metadata
        kind = {"choices": meta["choices"]} if meta["kind"] == "choice" else {"type": SETTING_TYPES[meta["kind"]]}
        if meta["kind"] == "whole" and meta["bounds"][0] == 1:
            kind = {"type": positive_int}
        train.add_argument(meta["flag"], dest=spec.name, default=None, help=meta["help"], **kind)


# --- commands ---------------------------------------------------------------------------


def _generator(args):
    """The model the command names, with the flags of its own wing applied and any other wing's refused."""
    from generators.registry import load_generator

    generator = load_generator(args.checkpoint or args.domain, domain=args.domain)
    if getattr(args, "temperature", 1.0) is None:  # not given: the model's own default
        args.temperature = generator.default_temperature
    wings = wing_commands()
    refuse_foreign_flags(args.command, args, wings, generator.domain.name)
    wings[generator.domain.name].apply(args.command, generator, args)
    return generator


def _wing(generator):
    return wing_commands()[generator.domain.name]


def _format(generator, requested: str | None, batch: bool = True) -> str:
    fmt = (requested or generator.domain.write_formats[0]).lower().lstrip(".")
    return generator.domain.check_format(f"x.{fmt}", batch=batch)


def write_one_file(generator, fmt: str, assets: list, names: list[str], stem: Path, detail: str) -> None:
    """A batch format (a sprite sheet, an animation): every item in one file named after
    `stem`; prints that file with `detail`, then any companion (the sheet's atlas)."""
    print_written(generator.domain.write_batch(assets, names, naming.batch_path(stem, fmt)), detail, set())


def run_sample(args) -> int:
    import secrets

    from generators.core.fileio import ensure_writable_dir
    from generators.core.generator import check_seed

    generator = _generator(args)
    asked = generator.check_condition(_asked(args))  # unknown labels fail before any file is made
    fmt = _format(generator, args.format)
    done = _wing(generator).run("sample", generator, args, fmt)
    if done is not None:
        return done
    if fmt in generator.domain.batch_formats and args.n > MAX_IN_ONE_FILE:
        raise UserError(
            f"one .{fmt} file holds at most {MAX_IN_ONE_FILE:,} items; ask for fewer, or write one file each"
        )
    base = secrets.randbelow(2**31) if args.seed is None else check_seed(args.seed, args.n)
    out = ensure_writable_dir(args.out)
    listed: set = set()
    if fmt in generator.domain.batch_formats:
        items = generator.sample(args.n, asked, args.temperature, base)
        first, last = items[0].seed, items[-1].seed
        write_one_file(
            generator,
            fmt,
            [i.asset for i in items],
            [naming.seed_stem(args.domain, i.seed) for i in items],
            out / naming.seeds_stem(args.domain, first, last),
            f"seeds={first}..{last}",
        )
        return 0
    for start in range(0, args.n, CHUNK):  # item i is seed base + i whatever the chunk: memory stays flat
        for item in generator.sample(min(CHUNK, args.n - start), asked, args.temperature, base + start):
            path = out / f"{naming.seed_stem(args.domain, item.seed)}.{fmt}"
            print_written(
                generator.domain.write(item.asset, path), f"seed={item.seed}\tlabels={','.join(item.condition)}", listed
            )
    return 0


def _asked(args):
    """What the command line asks of the items' labels: --condition required, --without excluded."""
    from generators.core.conditions import Condition

    return Condition(tuple(args.condition or ()), tuple(args.without or ()))


def _endpoint(generator, path: str | None, seed: int | None, asked) -> tuple:
    """(latent, labels, description) of one interpolation end: a seed's is the item `sample`
    makes of that seed under what is asked (at the model's default temperature, as `sample`
    without --temperature); a file's is encoded under the labels it shows, its latent refined
    so that it comes back as itself (`Generator.encode`)."""
    if path is None:
        labels = generator.labels_for_seed(seed, asked)
        return generator.latent_for_seed(seed, generator.default_temperature, labels), labels, f"seed:{seed}"
    asset = read_noting(generator, path)
    # What the file shows by itself; where it shows nothing (an image), the labels asked for.
    labels = generator.condition_labels(generator.domain.labels_of(asset) or generator.labels_for_seed(0, asked))
    return generator.encode([asset], labels, refine=True)[0], labels, f"file:{path}"


def run_interpolate(args) -> int:
    from generators.core.fileio import ensure_writable_dir

    generator = _generator(args)
    asked = generator.check_condition(_asked(args))
    fmt = _format(generator, args.format)
    start = _endpoint(generator, args.from_file, args.seed_a, asked)
    end = _endpoint(generator, args.to_file, args.seed_b, asked)
    # Frames take each end's labels, unless labels were asked for: then all take those of A's seed.
    fixed = None if args.condition is None and not args.without else generator.labels_for_seed(args.seed_a or 0, asked)
    done = _wing(generator).interpolate(generator, args, fmt, start, end)
    if done is not None:
        return done
    (z_a, labels_a, name_a), (z_b, labels_b, name_b) = start, end
    path_z = generator.interpolate(z_a, z_b, args.steps, args.mode)
    out = ensure_writable_dir(args.out)
    listed: set = set()
    frames = []
    for i, z in enumerate(path_z):
        t = 0.5 if args.steps == 1 else i / (args.steps - 1)
        labels = fixed if fixed is not None else (labels_a if t < 0.5 else labels_b)
        asset = generator.decode(z[None], labels)[0]
        if fmt in generator.domain.batch_formats:
            frames.append(asset)
            continue
        path = out / f"{naming.frame_stem(args.domain, i)}.{fmt}"
        print_written(generator.domain.write(asset, path), f"t={t:.3f}\tfrom={name_a}\tto={name_b}", listed)
    if frames:
        write_one_file(
            generator,
            fmt,
            frames,
            [naming.frame_stem(args.domain, i) for i in range(len(frames))],
            out / naming.frame_stem(args.domain),
            f"frames={len(frames)}\tfrom={name_a}\tto={name_b}",
        )
    return 0


def read_noting(generator, path: str):
    """Read a user's file, telling them on stderr if encoding changes it (a crop, a resize). A
    file that cannot be read or encoded is one AssetError line that names it."""
    from generators.core.errors import AssetError

    try:
        asset = generator.domain.read(path)
        note = generator.domain.encoding_note(asset)
    except AssetError as error:
        raise AssetError(str(error) if str(path) in str(error) else f"{path}: {error}") from None
    if note:
        print(f"note: {path}: {note}", file=sys.stderr)
    return asset


def run_denoise(args) -> int:
    from generators.core.fileio import ensure_writable_dir

    generator = _generator(args)
    if args.condition is not None:
        generator.condition_labels(args.condition)
    fmt = _format(generator, args.format, batch=False)
    assets = [read_noting(generator, path) for path in args.inputs]  # every input is checked before anything is written
    dedicated = _wing(generator).denoiser(generator, args)
    out = ensure_writable_dir(args.out)
    listed: set = set()
    for path, stem, asset in zip(args.inputs, naming.denoised_stems(args.inputs), assets):
        if dedicated is not None:
            clean, source = dedicated
            cleaned, detail = clean([asset])[0], f"from={path}\tdenoiser={source}"
        else:
            labels = generator.condition_labels(
                args.condition if args.condition is not None else generator.domain.labels_of(asset)
            )
            cleaned = generator.decode(generator.encode([asset], labels), labels)[0]  # the mean at the posterior mean
            detail = f"from={path}\tcondition={','.join(labels)}"
        print_written(generator.domain.write(cleaned, out / f"{stem}.{fmt}"), detail, listed)
    return 0


class TerminalProgress:
    """A one-line progress bar on stderr, and a summary line per epoch."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr  # the stderr of now, not of import time
        self.start = time.monotonic()
        self.tty = self.stream.isatty()

    def on_step(self, epoch: int, step: int, steps: int) -> None:
        if self.tty and (step % 10 == 0 or step == steps):
            done = int(30 * step / steps)
            self.stream.write(f"\repoch {epoch} [{'#' * done}{'.' * (30 - done)}] {step}/{steps}")
            self.stream.flush()

    def on_count(self, what: str, done: int, total: int) -> None:
        """ "scanned 320/1000 files", on a terminal only, cleared when done."""
        if self.tty:
            end = "\r" + " " * 40 + "\r" if done == total else ""
            self.stream.write(f"\r{what} {done}/{total}{end}")
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
    from generators.core.train import settings_for
    from generators.registry import domain_class
    from generators.training_run import TrainingRequest, train_and_save

    given = {spec.name: getattr(args, spec.name) for spec in dataclasses.fields(TrainConfig)}
    settings = settings_for(domain_class(args.domain).training_defaults, given)
    request = TrainingRequest(
        domain=args.domain,
        data=[Path(p) for p in args.data],
        out=Path(args.out),
        config=settings,
        holdout=tuple(args.holdout),
        resume=args.resume,
        command=naming.running_command(sys.argv[1:]),
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


def run_scan(args) -> int:
    from generators.core.fileio import ensure_writable_dir, ensure_writable_file, write_text_atomic
    from generators.core.scan import files_in, reference_scores, scan_paths

    generator = _generator(args)
    folder = None
    if args.json:
        ensure_writable_file(args.json)
        folder = ensure_writable_dir(Path(args.json).with_name(Path(args.json).stem + "-overlays"))
    paths = files_in(Path(args.folder), generator.domain.read_formats)
    if not paths:
        raise UserError(
            f"{args.folder} holds no {generator.domain.name} files ({', '.join(generator.domain.read_formats)})"
        )
    reference = reference_scores(generator)
    what = reference.what
    scanned, skipped = [], []

    def overlay_for(index: int, path: Path) -> Path | None:
        return None if folder is None else folder / f"{index:05d}-{path.stem}.png"  # numbered: stems may repeat

    progress = TerminalProgress()
    for done, (path, result) in enumerate(scan_paths(generator, paths, reference, overlay_for), start=1):
        progress.on_count("scanned", done, len(paths))
        if isinstance(result, UserError):  # AssetError and every other one-line user error
            skipped.append({"file": str(path), "reason": str(result)})
            print(f"skipped: {result}" if str(path) in str(result) else f"skipped {path}: {result}", file=sys.stderr)
        else:
            scanned.append(result)
    scanned.sort(key=lambda item: item.score)
    ranked = f"{len(scanned)} file{'' if len(scanned) == 1 else 's'}"
    print(f"{ranked} ranked least typical first; percentiles among {what}")
    # With a baseline the score is a z-score around what real items holding as much score; else the ELBO.
    score_head = "z-score" if reference.baseline is not None else "ELBO"
    print(f"{'rank':>4}  {'percentile':>10}  {score_head:>8}  {'ELBO nats':>10}  file\tlabels\tworst at")
    for rank, item in enumerate(scanned, start=1):
        numbers = f"{rank:>4}  {item.percentile:>10.1f}  {item.score:>8.2f}  {item.elbo:>10.1f}"
        print(f"{numbers}  {item.path}\t{','.join(item.labels)}\t{item.worst}")
    if args.json:
        rows = []
        for rank, item in enumerate(scanned, start=1):
            rows.append(
                {
                    "rank": rank,
                    "file": str(item.path),
                    "elbo_nats": round(item.elbo, 3),
                    "score": round(item.score, 4),
                    "percentile": round(item.percentile, 2),
                    "labels": item.labels,
                    "worst": item.worst,
                    "position_scores": [round(s, 3) for s in item.positions],
                    "overlay": str(item.overlay),
                }
            )
        report = {"model": generator.name, "reference": what, "files": rows, "skipped": skipped}
        write_text_atomic(args.json, json.dumps(report, indent=2) + "\n")
        print(args.json)
    return 0


def run_eval(args) -> int:
    from generators.core.evaluation import evaluate, format_table
    from generators.core.fileio import ensure_writable_file, write_text_atomic

    generator = _generator(args)
    if args.json:
        ensure_writable_file(args.json)
    foreign = []
    if args.scan_foreign is not None:  # read before the minutes of measuring: a bad folder says so at once
        from generators.core.scan import foreign_items

        if args.scan_anomalies <= 0:
            raise UserError("--scan-foreign needs --scan-anomalies N (the planted anomalies it is reported beside)")
        foreign = foreign_items(generator.domain, Path(args.scan_foreign))
    corpus = generator.domain.heldout_corpus(args.data, generator.card)
    started = time.monotonic()

    def log(line: str) -> None:  # eval runs for minutes: say what it is doing
        print(f"[{time.monotonic() - started:6.1f}s] {line}", file=sys.stderr, flush=True)

    report = evaluate(generator, corpus, iwae_k=args.iwae_k, samples=args.samples, seed=args.seed, log=log)
    rows, write_beside = _wing(generator).evaluate(generator, corpus, args)
    report.update(rows)
    if args.scan_anomalies > 0:
        from generators.core.scan import detection_report, reference_scores

        normals, outliers = generator.domain.detection_items(corpus.holdout)
        if foreign:
            outliers["other_set"] = foreign
        baseline = reference_scores(generator).baseline
        report["scan_detection"] = detection_report(
            generator, normals, args.seed, args.scan_anomalies, outliers, baseline=baseline
        )
    print(format_table(report))
    if args.json:
        write_text_atomic(args.json, json.dumps(report, indent=2) + "\n")
        print(args.json)
        for path in write_beside(Path(args.json)) if write_beside else []:
            print(path)
    return 0


def _interrupt(signum, frame):
    """SIGTERM (a `kill`, a closing terminal session, a scheduler) stops a command as Ctrl-C does:
    as a KeyboardInterrupt, so every temp file is removed and training keeps its last epoch."""
    raise KeyboardInterrupt


# argparse dest -> the flag a user typed
PATH_OPTIONS = {
    "out": "--out", "json": "--json", "folder": "--in", "checkpoint": "--checkpoint", "init": "--init",
    "from_file": "--from", "to_file": "--to", "oracle": "--oracle", "jsb": "--jsb",
}  # fmt: skip


def refuse_empty_paths(args) -> None:
    """An empty path (a shell variable that was never set) names no file: refuse it, rather than
    read or write the current folder."""
    given = vars(args)
    for name, flag in PATH_OPTIONS.items():
        if given.get(name) == "":
            raise UserError(f"{flag} is empty: give a path")
    for name in ("data", "inputs"):
        if any(path == "" for path in given.get(name) or []):
            raise UserError(f"--{'in' if name == 'inputs' else name} has an empty path: give a path")


def os_error_line(error: OSError) -> str:
    """One line for a file-system error: what failed, on which path (shortened past 160 characters)."""
    name = str(error.filename or "")
    if len(name) > 160:
        name = name[:80] + "…" + name[-79:]
    return f"{error.strerror or error}: {name}" if name else str(error.strerror or error)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread (main() called from a worker): signals stay as they are
        previous = None
    try:
        from generators.core.threads import configure_threads

        configure_threads(args.threads)
        refuse_empty_paths(args)
        return args.handler(args)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as error:  # the file system refused (a name too long, a full disk): the user can act on it
        print(f"error: {os_error_line(error)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)

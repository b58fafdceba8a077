"""What the levels wing adds to the CLI: whole levels (`sample --length [--playable]`, a morph
with `interpolate --length`), playable Lode Runner screens (`sample --playable` with a
single-screen model) and their part of `eval` (completion and solvable rates, expressive range)."""

from __future__ import annotations

import secrets
import sys

from generators.core import naming
from generators.core.commands import Flag, WingCommands, bounded_int, print_written
from generators.core.conditions import Condition
from generators.core.errors import UserError
from generators.core.fileio import ensure_writable_dir, write_png_atomic
from generators.core.generator import check_seed

from .character import CHARACTERS
from .long_level import DIFFICULTIES, WINDOW_CANDIDATES

LENGTH_HELP = "levels: make each item a whole level of COLUMNS columns (50-1000), windows stitched at matched seams"
MORPH_HELP = (
    "levels: write one level of COLUMNS columns (50-1000) that morphs from the start to the end item, "
    "instead of --steps frames"
)


BUDGET = bounded_int(1, 1000)  # --repair-budget: variants tried per level; each costs an agent run (~0.06 s)
MAX_LONG_LEVELS = 10_000  # eval's whole levels; each takes about a second
BUDGET_DEFAULTS = "default 24 for a --length level, 400 for a Lode Runner screen"


class LevelCommands(WingCommands):
    flags = (
        Flag("sample", "--length", {"type": int, "metavar": "COLUMNS", "help": LENGTH_HELP}),
        Flag(
            "sample",
            "--playable",
            {
                "action": "store_true",
                "help": "levels, with --length, or with a Lode Runner model: repair levels the "
                "playability agent cannot finish; any the repair budget cannot fix are still "
                "written, marked playable=no, and counted on stderr",
            },
        ),
        Flag(
            "sample",
            "--repair-budget",
            {
                "type": BUDGET,
                "metavar": "N",
                "help": f"levels, with --playable: at most N repaired variants tried per level ({BUDGET_DEFAULTS})",
            },
        ),
        Flag(
            "sample",
            "--difficulty",
            {
                "choices": DIFFICULTIES,
                "help": "levels, with --length: an easier or harder level, each window chosen from "
                f"{WINDOW_CANDIDATES} draws by leniency (fewer or more enemies and gaps); "
                "default: as the seed draws it",
            },
        ),
        Flag(
            "sample",
            "--character",
            {
                "choices": CHARACTERS,
                "help": "levels, with --length: a ground level (a floor with a few pits) or an athletic one "
                "(pits crossed on platforms), as the originals are one or the other; default: neither, "
                "windows as drawn",
            },
        ),
        Flag("interpolate", "--length", {"type": int, "metavar": "COLUMNS", "help": MORPH_HELP}),
        Flag(
            "eval",
            "--long-levels",
            {
                "type": bounded_int(0, MAX_LONG_LEVELS),
                "default": 100,
                "metavar": "N",
                "help": "levels: also make N "
                "whole levels (raw and --playable) for completion rates and expressive range, "
                "plotted beside --json; with a Lode Runner model, N screens (raw and --playable) "
                "for the agent's solvable rate (default 100; 0 skips)",
            },
        ),
        Flag(
            "eval",
            "--long-length",
            {
                "type": int,
                "default": 200,
                "metavar": "COLUMNS",
                "help": "levels: columns of each whole level (default 200)",
            },
        ),
        Flag(
            "eval",
            "--repair-budget",
            {
                "type": BUDGET,
                "metavar": "N",
                "help": f"levels: repaired variants tried per level for the --playable figures ({BUDGET_DEFAULTS})",
            },
        ),
        Flag(
            "eval",
            "--oracle",
            {
                "metavar": "PATH",
                "help": "levels: also play the whole levels (originals, raw and --playable) with the Mario AI "
                "framework's A* agent, PlayAstar.jar of the mario-gpt wheel (PATH: the jar or its folder; needs "
                "Java), and report its completion and agreement with our agent (slow: 10-20 s a level)",
            },
        ),
    )

    def apply(self, command, generator, args) -> None:
        """Whole-level flags are checked before any file is read or written."""
        from .long_level import check_support
        from .stitch import check_length

        if command == "sample" and self.playable_screens(generator, args):
            from .lode_playable import check_screen_support

            check_screen_support(generator.domain)
        elif command == "sample" and (args.length is not None or args.playable):
            check_support(generator, args.length)
        for name in ("difficulty", "character"):
            if command == "sample" and getattr(args, name) is not None and args.length is None:
                raise UserError(f"--{name} needs --length: it chooses the windows of a whole level")
        if command == "interpolate" and args.length is not None:
            check_support(generator, args.length)
        if command == "eval" and self.whole_levels_to_eval(generator, args):
            check_length(args.long_length)
        if command == "eval" and args.oracle is not None:
            self.oracle_for(generator, args)  # a missing jar or Java is said before minutes of eval

    @staticmethod
    def oracle_for(generator, args):
        """The Mario AI framework's A* agent that --oracle names, or a UserError saying why it cannot play."""
        from .oracle import Oracle

        reason = generator.domain.stitch_support()
        if reason:
            raise UserError(f"--oracle plays whole levels: {reason}")
        if args.long_levels < 1:
            raise UserError("--oracle plays the whole levels that --long-levels makes; give it 1 or more")
        return Oracle(args.oracle)

    @staticmethod
    def playable_screens(generator, args) -> bool:
        """Whether `sample` asks for playable single screens: --playable, no --length, a whole-level model."""
        return args.playable and args.length is None and generator.domain.whole_levels

    @staticmethod
    def whole_levels_to_eval(generator, args) -> int:
        """How many whole levels `eval` makes: none where windows cannot be stitched (single screens)."""
        if args.long_levels < 0:
            raise UserError(f"--long-levels must be 0 or more, got {args.long_levels}")
        return 0 if generator.domain.stitch_support() else args.long_levels

    def run(self, command, generator, args, fmt):
        if command == "sample" and self.playable_screens(generator, args):
            return sample_playable_screens(generator, args, fmt)
        if command == "sample" and (args.length is not None or args.playable):
            return sample_whole_levels(generator, args, fmt)
        return None

    def interpolate(self, generator, args, fmt, start, end):
        return morph_whole_level(generator, args, fmt, start, end) if args.length is not None else None

    @staticmethod
    def evaluate_screens(generator, corpus, args) -> dict:
        """`eval`'s part for a single-screen model: the Lode Runner agent's solvable rates of N
        screens raw and with --playable, beside the originals' (nothing for other games)."""
        from .lode_playable import SEARCH_BUDGET, screen_support, screens_report

        if screen_support(generator.domain) or not args.long_levels:
            return {}
        budget = args.repair_budget or SEARCH_BUDGET
        return {"lode_runner_playable": screens_report(generator, corpus, args.long_levels, args.seed, budget)}

    def evaluate(self, generator, corpus, args):
        oracle = None if args.oracle is None else self.oracle_for(generator, args)
        if generator.domain.whole_levels:
            return self.evaluate_screens(generator, corpus, args), None
        levels = self.whole_levels_to_eval(generator, args)
        if not levels:
            return {}, None
        from .expressive import difficulty_control, expressive_range_image, long_level_sets, plot_path
        from .long_level import REPAIR_BUDGET

        report, points, sets = long_level_sets(
            generator, corpus, args.data, levels, args.long_length, args.seed, args.repair_budget or REPAIR_BUDGET
        )
        report["difficulty_control"] = difficulty_control(generator, levels, args.long_length, args.seed)
        if oracle is not None:
            from .oracle import compare

            def progress(name, index, result):
                if sys.stderr.isatty():
                    print(
                        f"\roracle: {name} {index + 1}/{len(sets[name].levels)} {result.status}  ",
                        end="",
                        file=sys.stderr,
                    )

            report["oracle"] = {"jar": str(oracle.jar), **compare(oracle, sets, generator.domain.legend, progress)}
            if sys.stderr.isatty():
                print(file=sys.stderr)

        def write_plot(json_path):
            write_png_atomic(plot_path(json_path), expressive_range_image(points))
            return [plot_path(json_path)]

        return {"long_levels": report}, write_plot


def sample_whole_levels(generator, args, fmt: str) -> int:
    """`sample levels --length`: item i is one stitched level from seed+i; with --playable,
    repaired towards playability and marked playable=yes/no."""
    from .long_level import REPAIR_BUDGET, LongLevelRequest, make_long_level

    base, out, asked = _sampling(generator, args)
    budget = args.repair_budget or REPAIR_BUDGET
    listed: set = set()
    failed = []
    for seed in range(base, base + args.n):
        request = LongLevelRequest(
            args.length,
            seed,
            asked,
            args.temperature,
            args.playable,
            budget,
            difficulty=args.difficulty,
            character=args.character,
        )
        made = make_long_level(generator, request)
        detail = f"seed={seed}\tcolumns={made.level.width}"
        if made.character is not None:
            detail += f"\tcharacter={made.character}"
        if args.difficulty is not None:
            detail += f"\tdifficulty={args.difficulty}"
        if args.playable:
            detail += f"\t{_verdict(made.playable)}\tattempts={made.attempts}"
            if not made.playable:
                failed.append(seed)
        path = out / f"{naming.seed_stem(args.domain, seed, args.length)}.{fmt}"
        print_written(generator.domain.write(made.level, path), detail, listed)
    _warn_unplayable(failed, args.n, f"{budget} repair attempts")
    return 0


def sample_playable_screens(generator, args, fmt: str) -> int:
    """`sample levels --playable` with a single-screen Lode Runner model: item i is the screen of
    seed+i if the agent solves it, else searched and repaired towards one it does
    (`lode_playable`), and marked playable=yes/no."""
    from .lode_playable import SEARCH_BUDGET, playable_screen

    base, out, asked = _sampling(generator, args)
    budget = args.repair_budget or SEARCH_BUDGET
    listed: set = set()
    failed = []
    for seed in range(base, base + args.n):
        made = playable_screen(generator, seed, asked, args.temperature, budget)
        detail = (
            f"seed={seed}\tlabels={','.join(made.labels)}\t{_verdict(made.playable)}"
            f"\tattempts={made.attempts}\tladder_tiles={made.ladder_tiles}"
        )
        if not made.playable:
            failed.append(seed)
        path = out / f"{naming.seed_stem(args.domain, seed)}.{fmt}"
        print_written(generator.domain.write(made.level, path), detail, listed)
    _warn_unplayable(failed, args.n, f"{budget} search attempts and a ladder repair")
    return 0


def _sampling(generator, args) -> tuple:
    """(first seed, output folder, checked condition) of a `sample` command."""
    base = secrets.randbelow(2**31) if args.seed is None else check_seed(args.seed, args.n)
    out = ensure_writable_dir(args.out)
    return base, out, generator.check_condition(Condition(tuple(args.condition), tuple(args.without)))


def _verdict(playable: bool) -> str:
    return f"playable={'yes' if playable else 'no'}"


def _warn_unplayable(failed: list[int], n: int, tried: str) -> None:
    """The stderr line counting the levels written unplayable (nothing when there are none)."""
    if failed:
        print(
            f"warning: {len(failed)} of {n} levels are not playable after {tried} "
            f"each (seeds {', '.join(map(str, failed))}); they were written, marked playable=no",
            file=sys.stderr,
        )


def morph_whole_level(generator, args, fmt: str, start: tuple, end: tuple) -> int:
    """`interpolate levels --length`: one level whose window k decodes the latent at
    t = k / (n - 1) from the start item to the end item; `start` and `end` are (latent,
    labels, description) triples."""
    from .long_level import LongLevelRequest, Morph, make_long_level

    (z_a, labels_a, name_a), (z_b, labels_b, name_b) = start, end
    morph = Morph(
        z_a, z_b, args.mode, seed_a=args.seed_a, seed_b=args.seed_b, labels_a=tuple(labels_a), labels_b=tuple(labels_b)
    )
    given = args.condition is not None or args.without
    asked = Condition(tuple(args.condition or ()), tuple(args.without)) if given else None
    made = make_long_level(generator, LongLevelRequest(args.length, args.seed_a or 0, asked, morph=morph))
    out = ensure_writable_dir(args.out)
    path = out / f"{naming.morph_stem(args.domain, args.length)}.{fmt}"
    print_written(
        generator.domain.write(made.level, path), f"columns={made.level.width}\tfrom={name_a}\tto={name_b}", set()
    )
    return 0


COMMANDS = LevelCommands()

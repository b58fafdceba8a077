"""The real game's verdict on a Mario level: the A* agent of the Mario AI framework (Robin
Baumgarten's), as packaged in MarioGPT's wheel (`mario-gpt==0.1.3` on PyPI, MIT) as
`mario_gpt/simulator/PlayAstar.jar`. It calibrates our own agent (`agent.play`), which is more
lenient than the game. Nothing of the jar ships with Latent Forge: the user fetches it and names it
with a path, the jar itself or a folder holding PlayAstar.jar (and its `img/` folder):

    pip download mario-gpt==0.1.3 --no-deps -d /tmp/mariogpt && cd /tmp/mariogpt && unzip -q mario_gpt-*.whl
    # then point at /tmp/mariogpt/mario_gpt/simulator

Each level is written to a temporary VGLC text file and played by `java -jar PlayAstar.jar LEVEL
norender IMG/` (Java 8 or later), which prints a line `Game Status: WIN Percentage Completion: 1.0`.
The status is WIN, LOSE (Mario died) or TIME_OUT (the game clock ran out); the completion is Mario's
x over the x of the level's last column, so 1.0 on a win.

What the jar does, read from its classes and the framework's sources, and seen playing:
- Mario starts large (24 px, 1.5 tiles tall: he needs two free rows, and a ceiling three rows above
  the ground cuts his jumps short; one hit shrinks him instead of killing him), in column 0 on the
  first floor from the bottom; with no solid tile in column 0 he drops in from above and falls.
  He wins on passing the left edge of the last column (so a level whose last column has no floor
  is lost at completion 0.99...). He jumps at most about 4 tiles (66 px: the feet reach a ledge 4
  tiles up), about 5 when bouncing off a stomped enemy; a jump at full speed (10.9 px a tick,
  reached after a run-up of about a dozen tiles) carries him about 11 tiles at the same height,
  8 tiles when landing 3 up. Every `E` is a Goomba, which walks off ledges. Falling out is death.
- The game runs 200 s of game time (6667 ticks), paced at 30 ticks a second even without rendering,
  and the agent may search for 40 ms of wall-clock time per tick. So a level takes about as long
  as playing it (10-20 s for a 200-column level, about 4.5 min when the clock runs out). Where the
  search needs its whole budget (a climb up stepping stones) the verdict depends on the machine's
  speed and load: between two runs on 2 busy cores, 3 of 37 original levels and 2 of 20 generated
  ones changed verdict. Play one level at a time on a quiet machine. Nor is it a perfect player: it
  loses some original levels whatever its budget (SMB 1-3 at column 21 with 20 or 40 ms a tick).

Tiles. The jar reads the VGLC Mario characters (X S - ? Q E < > [ ] o B b) with their meaning, plus
its own (enemies g G k K r R y Y, blocks # @ ! C U L D 1 2, pipes t T, platforms %, start M and
exit F); any other character is empty air. VGLC's `Q` (an empty question block) reads there as a
question block holding a coin and `?` as one holding a mushroom: solid either way, as for our agent.
Each tile of our legend is classed by its tags (solid, pipe, cannon, enemy, other hazard, coin,
empty) and kept as it is where the jar reads that character as the same class; otherwise it becomes
the nearest tile the jar knows: a solid block or pipe `X`, a cannon `B`, an enemy a Goomba `E`, a
hazard that is no enemy (spikes, lava) a Spiky `y` (it hurts on touch and cannot be stomped, though
it walks), a coin `o`, anything else empty `-`. `jar_tiles` gives the mapping of a legend.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from generators.core.errors import UserError

from .domain import Legend, Level

JAR_NAME = "PlayAstar.jar"
GAME_SECONDS = 200  # the game clock PlayAstar.jar sets; at 30 ticks/s and 40 ms per tick about 270 s of wall time
DEFAULT_TIMEOUT = 600.0  # seconds of wall time before a run is killed: well past the game's own clock
STATUSES = ("WIN", "LOSE", "TIME_OUT")
FETCH_HINT = (
    "get it with `pip download mario-gpt==0.1.3 --no-deps -d DIR`, unzip the wheel and pass DIR/mario_gpt/simulator"
)

# The class of each character PlayAstar.jar reads (engine.core.MarioLevel in MarioGPT's build).
# Classes no legend tag gives ("hidden" blocks, jump-through "platform", "marker") never keep a tile.
JAR_TILES = {
    **dict.fromkeys("X#S?@Q!CULD", "solid"),
    **dict.fromkeys("<>[]tT", "pipe"),
    **dict.fromkeys("Bb*", "cannon"),
    **dict.fromkeys("EgGkKrRyY", "enemy"),
    **dict.fromkeys("12", "hidden"),
    "%": "platform",
    "|": "empty",
    "o": "coin",
    "-": "empty",
    "M": "marker",
    "F": "marker",
}
NEAREST = {"solid": "X", "pipe": "X", "cannon": "B", "enemy": "E", "hazard": "y", "coin": "o", "empty": "-"}

_RESULT = re.compile(r"Game Status:\s*(\S+)\s+Percentage Completion:\s*(\S+)")


@dataclass(frozen=True)
class OracleResult:
    """What the framework's A* agent did on one level."""

    status: str  # "WIN", "LOSE" (died) or "TIME_OUT" (the game clock ran out)
    completion: float  # Mario's x over the x of the last column's left edge: 1.0 on a win
    seconds: float  # wall time of the run, Java's start-up included

    @property
    def won(self) -> bool:
        return self.status == "WIN"


def tile_class(tags: Iterable[str]) -> str:
    """The class of a legend tile from its tags: solid, pipe, cannon, enemy, hazard, coin or empty."""
    tags = {t.lower() for t in tags}
    if "solid" in tags:
        return "cannon" if "cannon" in tags else "pipe" if "pipe" in tags else "solid"
    if "enemy" in tags:
        return "enemy"
    if "hazard" in tags:
        return "hazard"
    return "coin" if "coin" in tags else "empty"


def jar_tiles(legend: Legend) -> dict[str, str]:
    """Each legend character and the character the jar is given for it (itself where the jar reads
    it as the same class of tile, else the nearest the jar knows; see the module doc)."""
    mapping = {}
    for char, tags in legend.items():
        kind = tile_class(tags)
        mapping[char] = char if JAR_TILES.get(char) == kind else NEAREST[kind]
    return mapping


def jar_text(level: Level, legend: Legend) -> str:
    """The level as the text PlayAstar.jar reads: VGLC rows, tiles mapped by `jar_tiles`."""
    if not level.rows or any(len(r) != level.width for r in level.rows):
        raise UserError("the oracle needs a level whose rows all have the same, non-zero length")
    mapping = jar_tiles(legend)
    unknown = sorted(set("".join(level.rows)) - set(mapping))
    if unknown:
        raise UserError(f"the level has tile {unknown[0]!r} that its legend does not describe")
    table = str.maketrans(mapping)
    return "\n".join(row.translate(table) for row in level.rows) + "\n"


def parse_output(text: str) -> tuple[str, float]:
    """(status, completion) from what PlayAstar.jar prints, or a UserError quoting its last line."""
    found = _RESULT.search(text)
    if found:
        status, share = found.group(1), found.group(2)
        try:
            completion = float(share)
        except ValueError:
            completion = math.nan
        if status in STATUSES and math.isfinite(completion):
            return status, completion
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "nothing"
    raise UserError(f"cannot read the oracle's result (expected 'Game Status: WIN|LOSE ...'); it printed: {last}")


def find_jar(path: str | Path) -> Path:
    """PlayAstar.jar from a path to it or to the folder holding it."""
    path = Path(path).expanduser()
    jar = path / JAR_NAME if path.is_dir() else path
    if not jar.is_file():
        where = f"in {path}" if path.is_dir() else f"at {path}"
        raise UserError(f"no {JAR_NAME} {where}; {FETCH_HINT}")
    if jar.suffix.lower() != ".jar":
        raise UserError(f"{jar} is not a .jar file; pass {JAR_NAME} or the folder holding it")
    return jar.resolve()


def find_java() -> str:
    """The `java` program on PATH, or a UserError saying it is missing."""
    java = shutil.which("java")
    if java is None:
        raise UserError("the oracle needs Java 8 or later: no `java` on PATH")
    return java


Runner = Callable[..., subprocess.CompletedProcess]


class Oracle:
    """Plays levels with PlayAstar.jar, one at a time. `runner` (default `subprocess.run`) is
    called like it, with the command list and capture_output, text and timeout; tests pass a fake."""

    def __init__(self, path: str | Path, *, timeout: float = DEFAULT_TIMEOUT, runner: Runner | None = None):
        self.jar = find_jar(path)
        self.java = find_java()
        self.images = self.jar.parent / "img"  # read only when rendering; passed as the jar expects
        self.timeout = timeout
        self._run = runner or subprocess.run

    def command(self, level_file: str | Path) -> list[str]:
        """The command line that plays one level file, without rendering."""
        images = str(self.images) + os.sep
        return [self.java, "-Djava.awt.headless=true", "-jar", str(self.jar), str(level_file), "norender", images]

    def play(self, level: Level, legend: Legend) -> OracleResult:
        """Play `level` (tiles described by `legend`) once and return the jar's verdict."""
        text = jar_text(level, legend)
        with tempfile.TemporaryDirectory(prefix="latent-forge-oracle-") as folder:
            level_file = Path(folder) / "level.txt"
            level_file.write_text(text, encoding="utf-8")
            start = time.perf_counter()
            try:
                done = self._run(self.command(level_file), capture_output=True, text=True, timeout=self.timeout)
            except subprocess.TimeoutExpired:
                raise UserError(f"the oracle did not finish a level within {self.timeout:g} s") from None
            except OSError as error:
                raise UserError(f"cannot run {self.java}: {error.strerror or error}") from None
            seconds = time.perf_counter() - start
        output = (done.stdout or "") + "\n" + (done.stderr or "")
        if done.returncode != 0 and not _RESULT.search(output):
            lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
            raise UserError(f"the oracle failed (exit {done.returncode}): {lines[0] if lines else 'no output'}")
        status, completion = parse_output(output)
        return OracleResult(status, completion, seconds)


def interleaved(sets: dict[str, list]) -> list[tuple[str, int]]:
    """(set name, index) pairs taking one item of each set in turn, so that a drift in the machine's
    load (which changes the jar's verdicts, see the module doc) falls on every set alike."""
    order, longest = [], max((len(v) for v in sets.values()), default=0)
    for i in range(longest):
        order += [(name, i) for name, items in sets.items() if i < len(items)]
    return order


def play_sets(
    oracle: Oracle, sets: dict[str, list[Level]], legend: Legend, progress: Callable | None = None
) -> dict[str, list[OracleResult]]:
    """The oracle's result for every level of every set, played one at a time in `interleaved`
    order. A level that appears twice (a --playable level the repair left as it was) is played once.
    `progress(name, index, result)` is called after each."""
    results: dict[str, list] = {name: [None] * len(levels) for name, levels in sets.items()}
    seen: dict[tuple[str, ...], OracleResult] = {}
    for name, i in interleaved(sets):
        level = sets[name][i]
        if level.rows not in seen:
            seen[level.rows] = oracle.play(level, legend)
        results[name][i] = seen[level.rows]
        if progress:
            progress(name, i, results[name][i])
    return results


def agreement(ours: list[bool], theirs: list[OracleResult]) -> dict:
    """How our agent's verdicts (completable or not) compare with the oracle's (WIN or not) on one set."""
    if len(ours) != len(theirs):
        raise ValueError(f"{len(ours)} verdicts of ours against {len(theirs)} of the oracle")
    n = len(ours)
    won = [r.won for r in theirs]

    def share(values) -> float:
        return float(sum(values) / n) if n else math.nan

    return {
        "levels": n,
        "completable_share": share(ours),
        "oracle_win_share": share(won),
        "oracle_mean_completion": share(r.completion for r in theirs),
        "agreement": share(a == b for a, b in zip(ours, won)),
        "ours_only": sum(a and not b for a, b in zip(ours, won)),  # we finish it, the game's agent does not
        "oracle_only": sum(b and not a for a, b in zip(ours, won)),
        "oracle_statuses": {s: sum(r.status == s for r in theirs) for s in STATUSES},
        "oracle_mean_seconds": share(r.seconds for r in theirs),
    }


def compare(oracle: Oracle, sets: dict, legend: Legend, progress: Callable | None = None) -> dict[str, dict]:
    """`agreement` per set, for sets of name -> an object with `levels` and our agent's `completable`
    verdicts (`expressive.PlayedSet`), the oracle playing them all by `play_sets`."""
    results = play_sets(oracle, {name: list(s.levels) for name, s in sets.items()}, legend, progress)
    return {name: agreement(list(s.completable), results[name]) for name, s in sets.items()}

"""A Mario playability agent: A* over standing positions and speeds, with the real engine's movement.

Every jump, fall and run is Mario's motion as the Mario AI framework's engine computes it, tick by
tick (`mario_motion.py`): the speed a run-up gives, the height and length a jump has at that speed,
and the speed Mario lands with. So a gap that needs a run-up is only cleared with the room for one,
as in the game. Measured against PlayAstar.jar on hand-made levels (tests/levels/test_level_agent.py):
from a run-up the longest gap is 10 columns, from a one-tile ledge 8; a jump onto a ledge 2, 3 or 4
tiles up clears 9, 7 or 6 columns; walls of 4 tiles are climbed, 5 are not.

Model (large Mario, as PlayAstar starts him: two tiles of room, one column):
- A tile is solid if its legend tags include "solid" (a cannon top, solid and hazard, is solid).
  A non-solid tile tagged "enemy" is an enemy: on a solid tile it is a ground enemy, which Mario may
  not walk or jump into but may stomp by falling onto it from above (he then stands in its cell);
  with no solid tile below it flies (paratroopas, Bloopers, Lakitu) and moves out of the way, so it
  is ignored. Any other non-solid tile tagged "hazard" (spikes, lava) is never touched. Everything
  else is air.
- Mario's feet are in a cell and his head in the cell above: both must be free of solid tiles and
  hazards. He stands with a solid tile right below his feet. Jumps may rise above the top row (as
  in SMB) but he cannot stand up there. Left of column 0 and right of the last column are walls,
  and falling below the bottom row is death (pits).
- A search state is a standing cell, a direction and a speed: the whole ticks of running from rest
  that Mario's speed equals when he reaches the take-off point of that cell (its far edge, where his
  back foot still stands on it). Running one tile on adds the ticks it takes; turning round starts
  from rest. Every jump is a precomputed arc: the engine's trajectory from one of a few take-off
  speeds (any not above the state's may be used), holding the jump 0 (walking off), 1, 2, 4 or 7
  ticks, running on or letting go, traced by Mario's front edge through the grid in 4-connected
  cells. An arc ends by landing (footing under it once it falls, or a stomp), dies on a hazard, a
  side wall or a pit, or, when his head hits a solid tile while rising, bonks and falls on.
- Not modelled: enemies walking, shells, moving platforms, and ducking or shrinking to pass a
  one-tile gap (a hit shrinks large Mario in the game).
Coordinates in results are map (row, column); rows above the map are negative. A path follows
Mario's front edge, so in the air it may lead his tile by one column.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import lru_cache
from math import ceil, floor

import numpy as np

from generators.core.errors import UserError

from . import mario_motion as motion
from .domain import Level

TILE = motion.TILE
EDGE_SPEEDS = (0, 2, 4, 6, 8, 11, 15, 20, 27, 40)  # take-off speed states of arcs from a ledge's far edge
FLUSH_SPEEDS = (0, 2, 4, 6)  # ... from against a wall, where no edge hangs over
HOLDS = (0, 1, 2, 4, 7)  # ticks the jump button is held after take-off; 0 walks off a ledge
CLIMB_DELAYS = (3, 5, 7)  # ticks straight up before running on, for climbing from beside a wall
MAX_JUMP = 4  # tiles: the feet rise 66.5 px at most, onto a ledge 4 tiles up
START_SEARCH = 8  # columns from the start column in which to look for a standing position
HEADROOM = MAX_JUMP + 2  # open rows kept above the map, for jumps from its top row
EDGE_X = 2 * TILE - 2 * motion.HALF_WIDTH - 1e-3  # front edge at take-off from a ledge, px from its left side
FLUSH_X = TILE - 1e-3  # ... against a wall
START_X = 8.0 + motion.HALF_WIDTH  # the front edge where PlayAstar puts Mario, in his first column
# Ticks on the ground after a landing before the next jump. The engine needs 2 (a tick with the button
# released, then one pressing it); PlayAstar's A* seldom manages a jump that soon after landing at
# speed, and 4 agrees best with its verdicts on the levels measured (docs/levels-agent.md).
GROUND_TICKS = 4
SUBSTEP = 4.0  # px: each tick's move is traced in pieces no longer than this

# Cell codes of the padded grid; codes from STOMP up end an arc.
AIR, FOOTING, STOMP, SOLID, HAZARD, DEATH = range(6)


@dataclass(frozen=True)
class PlayResult:
    """What the agent found: whether the goal is reachable, how far it got and the way there."""

    completable: bool
    furthest_column: int  # rightmost column of a standing position the agent reached
    path: tuple[tuple[int, int], ...]  # (row, col) cells the player occupies, in order, start to finish/furthest
    reason: str  # "" when completable, else a short human sentence


@dataclass(frozen=True)
class _Arcs:
    """All arcs, padded to one length. Shapes (A, L); step 0 is the first cell after the start."""

    dr: np.ndarray  # row offsets, down positive
    dc: np.ndarray  # column offsets
    cost: np.ndarray  # ticks from take-off to standing at the cell's take-off point, having landed there
    can_land: np.ndarray  # falling, so footing under the cell ends the arc
    up: np.ndarray  # the step moves up, so a solid cell there is a head bonk
    down: np.ndarray  # the step moves down, so an enemy there is stomped
    speed: np.ndarray  # speed state at the cell's take-off point, having landed there
    settled: np.ndarray  # on the ground long enough by that point to jump again (GROUND_TICKS)
    jumps: np.ndarray  # (A,) the arc is a jump, not a walk off a ledge
    takeoff: np.ndarray  # (A,) speed state the arc starts from
    direction: np.ndarray  # (A,) +1 right, -1 left
    fall: np.ndarray  # (A,) the arc flown on after a bonk: a walk-off in the same direction
    reach: int  # widest |dc| of any arc


def _trace(takeoff: int, hold: int, run: bool, start_x: float, delay: int, depth: int) -> list[tuple]:
    """One arc to the right as (dr, dc, cost, can_land, up, down, speed, settled) steps until its feet are
    `depth` rows below the start. The front edge starts `start_x` px right of the start column's
    left side, the feet on the bottom pixel of its row."""
    path = motion.trajectory(takeoff, hold, run, ticks=60 + 2 * depth, delay=delay)  # time enough to fall `depth` rows
    steps: list[tuple] = []
    y0 = TILE - 1e-3
    r, c = 0, floor(start_x / TILE)

    def enter(row: int, col: int, x: float, ticks: float, tick: int, falling: bool) -> None:
        last_row = steps[-1][0] if steps else 0
        landed = motion.landing_ticks(takeoff, run, delay, tick + 1, path.speed[tick]) if tick >= 0 else takeoff
        # After landing, run on to this cell's take-off point (its far edge, EDGE_X past its left side).
        extra = motion.run_ticks(landed, EDGE_X - (x - col * TILE))
        speed = motion.clamp_ticks(landed + extra)
        settled = extra >= GROUND_TICKS
        steps.append((row, col, ticks + extra, falling, row < last_row, row > last_row, speed, settled))

    if c:  # already over the next column at take-off
        enter(0, c, start_x, 0.0, -1, hold == 0)
    px, py, was_rising = start_x, y0, bool(hold)
    for tick in range(len(path.dx)):
        nx, ny = start_x + path.dx[tick], y0 + path.dy[tick]
        rising = path.rising[tick]
        if was_rising and not rising:
            # Re-enter the apex cell falling, so that footing under it can end the arc there.
            enter(r, c, px, float(tick), tick, True)
        was_rising = rising
        pieces = max(1, ceil(max(abs(nx - px), abs(ny - py)) / SUBSTEP))
        for k in range(1, pieces + 1):
            x, y = px + (nx - px) * k / pieces, py + (ny - py) * k / pieces
            row, col = floor(y / TILE), floor(x / TILE)
            if (row, col) == (r, c):
                continue
            ticks = tick + k / pieces
            if row != r and col != c:
                # Diagonal: up first while rising (over a ledge corner), across first while falling (onto it).
                enter(*((row, c) if rising else (r, col)), x, ticks, tick, not rising)
            enter(row, col, x, ticks, tick, not rising)
            r, c = row, col
            if r >= depth:
                return steps
        px, py = nx, ny
    raise AssertionError("an arc that never falls below the map")


def _specs() -> list[tuple[int, int, int, bool, float, int]]:
    """(direction, take-off speed, hold, run, start x, delay) of every arc."""
    specs = []
    for direction in (1, -1):
        for speeds, start_x in ((EDGE_SPEEDS, EDGE_X), (FLUSH_SPEEDS, FLUSH_X)):
            specs += [(direction, n, h, run, start_x, 0) for n in speeds for h in HOLDS for run in (True, False)]
        # Up a wall from beside it: jump straight up, then run on once the wall is below the feet.
        specs += [(direction, 0, h, True, FLUSH_X, delay) for h in (4, 7) for delay in CLIMB_DELAYS]
    return specs


@lru_cache(maxsize=8)
def _arcs(depth: int) -> _Arcs:
    """The arc table for falls of up to `depth` rows below the start (computed once per depth)."""
    specs = _specs()
    traces = [_trace(n, h, run, x, delay, depth) for _, n, h, run, x, delay in specs]
    width = max(len(t) for t in traces)
    table = np.zeros((8, len(traces), width))
    for a, ((direction, *_), steps) in enumerate(zip(specs, traces)):
        arr = np.array(steps, dtype=float)
        arr[:, 1] *= direction
        table[:, a, : len(steps)] = arr.T
        table[:, a, len(steps) :] = arr[-1][:, None]  # pad with the last (below-map) cell
    # After a bonk Mario falls on from where he was: a walk-off from there, same direction and run,
    # at the fastest wall-side take-off speed not above the arc's.
    index = {spec: a for a, spec in enumerate(specs)}

    def fall_of(direction: int, n: int, run: bool) -> int:
        slower = max(s for s in FLUSH_SPEEDS if s <= n)
        return index[(direction, slower, 0, run, FLUSH_X, 0)]

    dc = table[1].astype(np.int64)
    return _Arcs(
        dr=table[0].astype(np.int64),
        dc=dc,
        cost=table[2],
        can_land=table[3].astype(bool),
        up=table[4].astype(bool),
        down=table[5].astype(bool),
        speed=table[6].astype(np.int64),
        settled=table[7].astype(bool),
        jumps=np.array([h > 0 for _, _, h, *_ in specs]),
        takeoff=np.array([n for _, n, *_ in specs]),
        direction=np.array([d for d, *_ in specs]),
        fall=np.array([fall_of(d, n, run) for d, n, _, run, *_ in specs]),
        reach=int(np.abs(dc).max()),
    )


class _Grid:
    """The level as a padded code grid of Mario's feet cell: rows HEADROOM.. are the map, then one
    death row; walls pad the sides. A cell is blocked when it or the cell above (his head) is solid."""

    def __init__(self, level: Level, legend: dict):
        rows = level.rows
        self.height, self.width = level.height, level.width
        if any(len(r) != self.width for r in rows):
            raise UserError("the level's rows are not all the same length")
        chars = np.array([list(r) for r in rows]) if rows else np.zeros((0, 0), dtype="<U1")
        unknown = sorted(set(np.unique(chars).tolist()) - set(legend))
        if unknown:
            raise UserError(f"the level has tile {unknown[0]!r} that its legend does not describe")

        def tagged(tag: str) -> np.ndarray:
            return np.isin(chars, [c for c, tags in legend.items() if tag in (t.lower() for t in tags)])

        def or_above(mask: np.ndarray) -> np.ndarray:
            out = mask.copy()
            out[1:] |= mask[:-1]
            return out

        solid = tagged("solid")
        enemy = ~solid & tagged("enemy")
        grounded = np.zeros_like(solid)
        grounded[:-1] = solid[1:]
        self.solid = solid
        self.hazard = ~solid & ~enemy & tagged("hazard")
        self.arcs = _arcs(max(HEADROOM + self.height + 1, 16))
        self.pad = self.arcs.reach + 1
        code = np.full((HEADROOM + self.height + 1, self.width + 2 * self.pad), AIR, dtype=np.uint8)
        inner = code[HEADROOM : HEADROOM + self.height, self.pad : self.pad + self.width]
        inner[enemy & grounded] = STOMP  # flying enemies stay AIR
        inner[or_above(self.hazard)] = HAZARD
        inner[or_above(solid)] = SOLID
        self.low_ceiling = or_above(solid) & ~solid  # free, but no room for his head
        code[:, : self.pad] = SOLID
        code[:, self.pad + self.width :] = SOLID
        code[-1, :] = DEATH
        footing = np.zeros(code.shape, dtype=bool)
        footing[:-1] = (code[:-1] == AIR) & (code[1:] == SOLID)
        footing[:HEADROOM] = False  # no standing above the map: running along its top is no way through
        code[footing] = FOOTING
        self.code = code
        self.flat = code.ravel()
        self.stride = code.shape[1]
        self.death_row = code.shape[0] - 1
        self._tables: dict[int, tuple[np.ndarray, ...]] = {}

    def cell(self, node: int) -> tuple[int, int]:
        """Map (row, col) of a flat padded index."""
        r, c = divmod(int(node), self.stride)
        return r - HEADROOM, c - self.pad

    def table(self, k: int) -> tuple[np.ndarray, ...]:
        """Flat arc offsets, event thresholds, up and down for a start `k` rows above the death row,
        cut where every arc has met that row; later steps are clamped onto it. A code at or above
        the threshold ends the arc: footing does only once it can land."""
        if k not in self._tables:
            a = self.arcs
            n = int((a.dr >= k).argmax(1).max()) + 1
            offsets = np.minimum(a.dr[:, :n], k) * self.stride + a.dc[:, :n]
            threshold = np.where(a.can_land[:, :n], FOOTING, STOMP).astype(np.uint8)
            self._tables[k] = (offsets, threshold, a.up[:, :n], a.down[:, :n])
        return self._tables[k]

    def first_events(self, starts: np.ndarray, arcs: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Where arc `arcs[i]` flown from node `starts[i]` ends, or with no `arcs`, every arc from every
        start (start-major, len(starts) * A results): (step, landed, bonked, node there, node of the
        step before)."""
        n_arcs = len(self.arcs.fall)
        size = len(starts) * n_arcs if arcs is None else len(starts)
        step = np.zeros(size, dtype=np.int64)
        landed, bonked = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
        end, before = np.zeros_like(step), np.zeros_like(step)
        depth = self.death_row - starts // self.stride
        for k in np.unique(depth).tolist():
            sel = np.flatnonzero(depth == k)
            offsets, threshold, up, down = self.table(k)
            if arcs is None:
                # Broadcast every arc over every start, (n, A, L), without copying the tables.
                cells = starts[sel, None, None] + offsets
                codes = self.flat[cells]
                event = codes >= threshold
                sel = (sel[:, None] * n_arcs + np.arange(n_arcs)).ravel()
                arc = np.tile(np.arange(n_arcs), len(cells))
                cells, codes, event = (x.reshape(len(sel), -1) for x in (cells, codes, event))
            else:
                arc = arcs[sel]
                cells = starts[sel, None] + offsets[arc]  # (n, L)
                codes = self.flat[cells]
                event = codes >= threshold[arc]
            s = event.argmax(1)
            rows = np.arange(len(sel))
            kind = codes[rows, s]
            step[sel] = s
            landed[sel] = (kind == FOOTING) | ((kind == STOMP) & down[arc, s])
            bonked[sel] = (kind == SOLID) & up[arc, s] & (s > 0)
            end[sel] = cells[rows, s]
            before[sel] = cells[rows, np.maximum(s - 1, 0)]
        return step, landed, bonked, end, before

    def moves(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Every standing node (sorted flat indices) and every jump or fall between them.

        Moves are arrays sorted by source: src, dst (node ids), cost (ticks), takeoff (the speed state
        it needs), direction, speed (the speed state it lands with), settled (he may jump again from
        there), jumps (the move is a jump, so it needs a settled start), and arc, step, fall,
        fall_step (fall = -1 unless the arc bonked after step and fell on along arc `fall`). Of the
        moves between two nodes in one direction from one take-off speed, settled or not, the one
        landing fastest is kept."""
        a = self.arcs
        nodes = np.flatnonzero((self.flat == FOOTING) | (self.flat == STOMP))
        n_arcs = len(a.fall)
        starts = np.repeat(nodes, n_arcs)
        arcs = np.tile(np.arange(n_arcs), len(nodes))
        step, land, bonk, end, before = self.first_events(nodes)
        none = np.full(int(land.sum()), -1)
        al, sl = arcs[land], step[land]
        parts = [(starts[land], end[land], a.cost[al, sl], a.speed[al, sl], a.settled[al, sl], al, sl, none, none)]
        if bonk.any():
            falls = a.fall[arcs[bonk]]
            f_step, f_land, _, f_end, _ = self.first_events(before[bonk], falls)
            arc, top = arcs[bonk][f_land], step[bonk][f_land] - 1
            fall, fs = falls[f_land], f_step[f_land]
            # The fall's ticks start from its own take-off; the rise before it took the arc's ticks to `top`.
            cost = a.cost[arc, top] + a.cost[fall, fs]
            speed, settled = a.speed[fall, fs], a.settled[fall, fs]
            parts.append((starts[bonk][f_land], f_end[f_land], cost, speed, settled, arc, top, fall, fs))
        src, dst, cost, speed, settled, arc, stp, fall, fstp = (np.concatenate(x) for x in zip(*parts))
        # A stomp bounces him up, so he may jump on at once; against a wall ahead he can wait on the tile.
        ahead = self.flat[dst + self.arcs.direction[arc]]
        settled = settled | (self.flat[dst] == STOMP) | (ahead == SOLID)
        src, dst = np.searchsorted(nodes, src), np.searchsorted(nodes, dst)
        takeoff, direction = a.takeoff[arc], a.direction[arc]
        key = (((src * len(nodes) + dst) * 2 + (direction > 0)) * (motion.MAX_TICKS + 1) + takeoff) * 2 + settled
        order = np.lexsort((cost, -speed, key))
        first = np.r_[True, key[order][1:] != key[order][:-1]]
        keep = order[first]  # fastest landing, then cheapest, per source, destination, direction, take-off, settling
        keep = keep[np.argsort(src[keep], kind="stable")]
        jumps = a.jumps[arc]
        names = (
            *("src", "dst", "cost", "takeoff", "direction", "speed", "settled"),
            *("jumps", "arc", "step", "fall", "fall_step"),
        )
        values = (src, dst, cost, takeoff, direction, speed, settled, jumps, arc, stp, fall, fstp)
        return nodes, {n: v[keep] for n, v in zip(names, values)}

    def move_cells(self, start: int, arc: int, step: int, fall: int, fall_step: int) -> list[tuple[int, int]]:
        """The map cells a move passes through after `start`, ending at its landing."""
        a = self.arcs
        r0, c0 = self.cell(start)
        cells = list(zip((r0 + a.dr[arc, : step + 1]).tolist(), (c0 + a.dc[arc, : step + 1]).tolist()))
        if fall >= 0:
            r1, c1 = cells[-1]
            cells += zip((r1 + a.dr[fall, : fall_step + 1]).tolist(), (c1 + a.dc[fall, : fall_step + 1]).tolist())
        return cells

    def walks(self, nodes: np.ndarray) -> tuple[list[int], list[int]]:
        """For each node, the node one column right and one left on the same row, where Mario can walk
        there on footing (-1 where not)."""
        footing = self.flat[nodes] == FOOTING
        right = np.searchsorted(nodes, nodes + 1)
        left = np.searchsorted(nodes, nodes - 1)
        n = len(nodes)

        def neighbour(ids: np.ndarray, offset: int) -> list[int]:
            ids = np.minimum(ids, n - 1)
            ok = (nodes[ids] == nodes + offset) & footing & footing[ids]
            return np.where(ok, ids, -1).tolist()

        return neighbour(right, 1), neighbour(left, -1)


def play(level: Level, legend: dict, *, start_column: int | None = None, goal_columns: int = 3) -> PlayResult:
    """Search from the leftmost standing column to any standing position in the last `goal_columns`."""
    if goal_columns < 1:
        raise ValueError(f"goal_columns must be at least 1, got {goal_columns}")
    grid = _Grid(level, legend)
    first = 0 if start_column is None else start_column
    nodes, moves = grid.moves()
    columns = ((nodes % grid.stride) - grid.pad).tolist()
    starts = _starts(grid, nodes, columns, first)
    if not starts:
        return PlayResult(False, -1, (), f"no place to stand in columns {first}-{first + START_SEARCH - 1}")
    goal = max(grid.width - goal_columns, 0)
    reached, parent, best = _search(moves, grid.walks(nodes), columns, starts, goal)
    row, column = grid.cell(nodes[best[0]])
    path = _path(grid, nodes, moves, parent, best)
    if reached:
        return PlayResult(True, column, path, "")
    return PlayResult(False, column, path, f"stuck at column {column}: {_obstacle(grid, row, column)}")


def _starts(grid: _Grid, nodes: np.ndarray, columns: list[int], first: int) -> list[int]:
    """Ids of the footing nodes in the leftmost column from `first` that has any, lowest first."""
    footing = (grid.flat[nodes] == FOOTING).tolist()
    for col in range(max(first, 0), min(first + START_SEARCH, grid.width)):
        ids = [i for i, c in enumerate(columns) if c == col and footing[i]]
        if ids:
            return ids[::-1]
    return []


State = tuple[int, int, int, int]  # (node id, speed state, direction: 0 right 1 left, settled: 1 may jump)


def _search(
    moves: dict, walks: tuple[list[int], list[int]], columns: list[int], starts: list[int], goal: int
) -> tuple[bool, dict, State]:
    """A* over (node, speed, direction, settled) states; cost is ticks, the estimate columns left at
    top speed. A state is skipped when its node and direction were already reached at least as fast,
    settled or as unsettled as it is. Unsettled states (landed too late to jump from this cell) may
    only walk on or off.

    Returns (goal reached, parent of each reached state: (previous state, move index, or -1 for a walk
    right, -2 left), the goal state or the furthest one)."""
    n = len(columns)
    src = moves["src"]
    bounds = np.searchsorted(src, np.arange(n + 1)).tolist()
    dst, cost = moves["dst"].tolist(), moves["cost"].tolist()
    takeoff, speed = moves["takeoff"].tolist(), moves["speed"].tolist()
    settles, jumps = moves["settled"].astype(int).tolist(), moves["jumps"].tolist()
    heading = (moves["direction"] < 0).astype(int).tolist()
    per_column = TILE / motion.TOP_STEP  # ticks per column at top speed: the estimate never overestimates

    def estimate(u: int) -> float:
        return max(goal - columns[u], 0) * per_column

    # Speed state at which each node was closed, per settled flag and direction (-1: not yet).
    fastest = [[[-1] * n, [-1] * n], [[-1] * n, [-1] * n]]

    def beaten(u: int, sp: int, d: int, ok: int) -> bool:
        return fastest[1][d][u] >= sp or (not ok and fastest[0][d][u] >= sp)

    g: dict[State, float] = {}
    parent: dict[State, tuple[State, int]] = {}
    heap = []
    start_speed = motion.run_ticks(0, EDGE_X - START_X)  # PlayAstar's Mario runs from x = 8 px
    for s in starts:
        state = (s, start_speed, 0, 1)
        g[state] = 0.0
        heap.append((estimate(s), 0.0, state))
    heapq.heapify(heap)
    best = heap[0][2]

    def push(state: State, new_g: float, via: tuple[State, int]) -> None:
        if not beaten(*state) and new_g < g.get(state, float("inf")):
            g[state] = new_g
            parent[state] = via
            # Ties go to the deeper state, so runs along flat ground go straight ahead.
            heapq.heappush(heap, (new_g + estimate(state[0]), -new_g, state))

    while heap:
        _, neg_g, state = heapq.heappop(heap)
        u, sp, d, ok = state
        if beaten(u, sp, d, ok):
            continue
        fastest[ok][d][u] = sp
        if columns[u] > columns[best[0]]:
            best = state
        if columns[u] >= goal:
            return True, parent, state
        gu = -neg_g
        for e in range(bounds[u], bounds[u + 1]):
            md = heading[e]
            if takeoff[e] > (sp if md == d else 0) or (jumps[e] and not ok):
                continue
            push((dst[e], speed[e], md, settles[e]), gu + cost[e], (state, e))
        for md, v in enumerate((walks[0][u], walks[1][u])):
            if v >= 0:
                base = sp if md == d else 0
                ticks = motion.run_ticks(base, TILE)
                push((v, motion.clamp_ticks(base + ticks), md, 1), gu + ticks, (state, -1 - md))
    return False, parent, best


def _path(grid: _Grid, nodes: np.ndarray, moves: dict, parent: dict, state: State) -> tuple[tuple[int, int], ...]:
    """Cells from the start to `state`'s node, following parent moves and dropping repeated cells."""
    pieces = []
    while state in parent:
        previous, e = parent[state]
        if e < 0:  # a walk one column right (-1) or left (-2)
            row, col = grid.cell(nodes[state[0]])
            pieces.append([(row, col)])
        else:
            move = (int(moves[k][e]) for k in ("arc", "step", "fall", "fall_step"))
            pieces.append(grid.move_cells(int(nodes[previous[0]]), *move))
        state = previous
    cells = [grid.cell(nodes[state[0]])]
    for piece in reversed(pieces):
        cells += piece
    return tuple(c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1])


def _obstacle(grid: _Grid, row: int, column: int) -> str:
    """A short description of what stops the agent right of (row, column)."""
    nxt = column + 1
    if nxt >= grid.width:
        return "the level ends before the goal"
    if 0 <= row < grid.height and grid.solid[row, nxt]:
        top = row
        while top > 0 and grid.solid[top - 1, nxt]:
            top -= 1
        height = row - top + 1
        return f"a wall {height} tile{'s' if height > 1 else ''} high"
    if 0 <= row < grid.height and grid.low_ceiling[row, nxt]:
        return "a ceiling too low to pass under"
    ahead = grid.code[row + HEADROOM, grid.pad + nxt]
    if ahead in (STOMP, HAZARD):
        return "an enemy in the way" if ahead == STOMP else "a hazard in the way"
    footing = grid.code[HEADROOM : HEADROOM + grid.height, grid.pad + nxt : grid.pad + grid.width] == FOOTING
    reachable = footing[max(row - MAX_JUMP, 0) :].any(0)  # no higher than a full jump
    gap = int(reachable.argmax()) if reachable.any() else len(reachable)
    if gap:
        return f"gap of {gap} columns"
    return "no reachable footing ahead"

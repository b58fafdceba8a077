"""A Mario playability agent: A* over standing positions with tile-grid jump physics.

Model (small Mario: one tile tall, one tile wide):
- A tile is solid if its legend tags include "solid" (a cannon top, solid and hazard, is solid).
  A non-solid tile tagged "enemy" is an enemy: on a solid tile it is a ground enemy, which Mario may
  not walk or jump into but may stomp by falling onto it from above (he then stands in its cell);
  with no solid tile below it flies (paratroopas, Bloopers, Lakitu) and moves out of the way, so it
  is ignored. Any other non-solid tile tagged "hazard" (spikes, lava) is never entered. Everything
  else is air.
- He stands in an air cell (of the map) with a solid tile right below. Jumps may rise above the top
  row (as Mario can go above the screen in SMB) but he cannot stand up there, so a wall up to the
  top row stops him. Left of column 0 and right of the last column are walls, and falling below the
  bottom row is death (pits).
- Every move is one precomputed arc: walking a step or off a ledge (height 0), or a jump whose feet
  rise 1-4 tiles at a few horizontal speeds, or 5 tiles at a full run (SMB's running jump starts
  faster), left or right. Arcs are parabolas rasterised into chains of 4-connected cells; the
  5-high running jump lands 10 columns on at the same height, so a pit of up to 9 columns can be
  cleared (fewer when landing higher). Run-up room and mid-air steering are not modelled.
  An arc ends by landing (footing under it once past its apex, or a stomp), dies on a hazard, a
  side wall or a pit, or, when its head hits a solid tile while rising, bonks and falls on at the
  same horizontal speed.
Coordinates in results are map (row, column); rows above the map are negative.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import lru_cache
from math import floor, sqrt

import numpy as np

from generators.core.errors import UserError

from .domain import Level

GRAVITY = 1.0  # rows per time unit squared; the time unit is arbitrary
SPEED_FRACTIONS = (0.125, 0.25, 0.5, 0.75, 1.0)  # of RUN_SPEED
# (apex of the feet in tiles above take-off, fraction of RUN_SPEED); height 0 = a step or a fall.
JUMPS = tuple((h, f) for h in range(5) for f in SPEED_FRACTIONS) + ((5, 1.0),)
MAX_JUMP = max(h for h, _ in JUMPS)
RUN_SPEED = 10.0 / (2.0 * sqrt(2.0 * MAX_JUMP / GRAVITY))  # columns per time unit: a running jump spans 10
START_SEARCH = 8  # columns from the start column in which to look for a standing position
HEADROOM = MAX_JUMP + 1  # open rows kept above the map, for jumps from its top row

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
    time: np.ndarray  # time at which the cell is entered
    cost: np.ndarray  # A* cost of landing there
    can_land: np.ndarray  # past the apex, so footing under the cell ends the arc
    up: np.ndarray  # the step moves up, so a solid cell there is a head bonk
    down: np.ndarray  # the step moves down, so an enemy there is stomped
    fall: np.ndarray  # (A,) the height-0 arc of the same speed and direction, flown on after a bonk
    reach: int  # widest |dc| of any arc


def _trace(height: int, speed: float, direction: int, depth: int) -> list[tuple]:
    """One arc as (dr, dc, time, can_land, up, down) steps until its feet are `depth` rows below the start."""
    vy = sqrt(2.0 * GRAVITY * height)
    t_apex = vy / GRAVITY
    steps: list[tuple] = []
    r = c = 0

    def enter(row: int, col: int, landing: bool) -> None:
        last_row = steps[-1][0] if steps else 0
        steps.append((row, col, t, landing, row < last_row, row > last_row))

    t, dt = 0.0, 1.0 / 512
    apex_marked = height == 0
    while r < depth:
        t += dt
        y = vy * t - 0.5 * GRAVITY * t * t
        nr, nc = floor(-y + 0.5), direction * floor(speed * t + 0.5)
        if not apex_marked and t >= t_apex:
            # Re-enter the apex cell so that footing under it can end the arc there.
            apex_marked = True
            enter(r, c, True)
        if (nr, nc) == (r, c):
            continue
        rising = t < t_apex
        if nr != r and nc != c:
            # Diagonal: go up first while rising (over a ledge corner), across first while falling (onto it).
            enter(*((nr, c) if rising else (r, nc)), not rising)
        enter(nr, nc, not rising)
        r, c = nr, nc
    return steps


def _cost(time, dc):
    # Air time, but never below the time to run the columns covered, so the A* estimate
    # (columns left / RUN_SPEED) never overestimates.
    return np.maximum(time, np.abs(dc) / RUN_SPEED)


@lru_cache(maxsize=8)
def _arcs(depth: int) -> _Arcs:
    """The arc table for falls of up to `depth` rows below the start (computed once per depth)."""
    specs = [(d, h, f) for d in (1, -1) for h, f in JUMPS]
    traces = [_trace(h, f * RUN_SPEED, d, depth) for d, h, f in specs]
    fall_of = {(d, f): i for i, (d, h, f) in enumerate(specs) if h == 0}
    width = max(len(t) for t in traces)
    table = np.zeros((6, len(traces), width))
    for a, steps in enumerate(traces):
        arr = np.array(steps, dtype=float)
        table[:, a, : len(steps)] = arr.T
        table[:, a, len(steps) :] = arr[-1][:, None]  # pad with the last (below-map) cell
    dr, dc = table[0].astype(np.int64), table[1].astype(np.int64)
    return _Arcs(
        dr=dr,
        dc=dc,
        time=table[2],
        cost=_cost(table[2], dc),
        can_land=table[3].astype(bool),
        up=table[4].astype(bool),
        down=table[5].astype(bool),
        fall=np.array([fall_of[(d, f)] for d, h, f in specs]),
        reach=int(np.abs(dc).max()),
    )


class _Grid:
    """The level as a padded code grid: rows HEADROOM.. are the map, then one death row; walls pad the sides."""

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
        inner[solid] = SOLID
        inner[self.hazard] = HAZARD
        inner[enemy & grounded] = STOMP  # flying enemies stay AIR
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
        """Every standing node (sorted flat indices) and every move between them, cheapest per pair.

        Moves are arrays sorted by source: src, dst (node ids), cost, and arc, step, fall, fall_step
        (fall = -1 unless the arc bonked after step and fell on along arc `fall`)."""
        a = self.arcs
        nodes = np.flatnonzero((self.flat == FOOTING) | (self.flat == STOMP))
        n_arcs = len(a.fall)
        starts = np.repeat(nodes, n_arcs)
        arcs = np.tile(np.arange(n_arcs), len(nodes))
        step, land, bonk, end, before = self.first_events(nodes)
        none = np.full(int(land.sum()), -1)
        parts = [(starts[land], end[land], a.cost[arcs[land], step[land]], arcs[land], step[land], none, none)]
        if bonk.any():
            falls = a.fall[arcs[bonk]]
            f_step, f_land, _, f_end, _ = self.first_events(before[bonk], falls)
            arc, top = arcs[bonk][f_land], step[bonk][f_land] - 1
            fall, fs = falls[f_land], f_step[f_land]
            cost = _cost(a.time[arc, top] + a.time[fall, fs], a.dc[arc, top] + a.dc[fall, fs])
            parts.append((starts[bonk][f_land], f_end[f_land], cost, arc, top, fall, fs))
        src, dst, cost, arc, stp, fall, fstp = (np.concatenate(x) for x in zip(*parts))
        src, dst = np.searchsorted(nodes, src), np.searchsorted(nodes, dst)
        key = src * len(nodes) + dst
        order = np.lexsort((cost, key))
        keep = order[np.r_[True, key[order][1:] != key[order][:-1]][: len(order)]]  # cheapest move of each pair
        names = ("src", "dst", "cost", "arc", "step", "fall", "fall_step")
        return nodes, {n: v[keep] for n, v in zip(names, (src, dst, cost, arc, stp, fall, fstp))}

    def move_cells(self, start: int, arc: int, step: int, fall: int, fall_step: int) -> list[tuple[int, int]]:
        """The map cells a move passes through after `start`, ending at its landing."""
        a = self.arcs
        r0, c0 = self.cell(start)
        cells = list(zip((r0 + a.dr[arc, : step + 1]).tolist(), (c0 + a.dc[arc, : step + 1]).tolist()))
        if fall >= 0:
            r1, c1 = cells[-1]
            cells += zip((r1 + a.dr[fall, : fall_step + 1]).tolist(), (c1 + a.dc[fall, : fall_step + 1]).tolist())
        return cells


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
    reached, parent, best = _search(moves, columns, starts, goal)
    row, column = grid.cell(nodes[best])
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


def _search(moves: dict, columns: list[int], starts: list[int], goal: int) -> tuple[bool, list[int], int]:
    """A* over node ids; cost is air time, the estimate columns left / RUN_SPEED.

    Returns (goal reached, parent move index per node (-1 for none), goal node or furthest node)."""
    n = len(columns)
    src, dst, cost = moves["src"], moves["dst"].tolist(), moves["cost"].tolist()
    bounds = np.searchsorted(src, np.arange(n + 1)).tolist()
    g = [float("inf")] * n
    parent = [-1] * n
    closed = bytearray(n)
    heap = []
    for s in starts:
        g[s] = 0.0
        heap.append((max(goal - columns[s], 0) / RUN_SPEED, 0.0, s))
    heapq.heapify(heap)
    best = starts[0]
    while heap:
        _, neg_g, u = heapq.heappop(heap)
        if closed[u]:
            continue
        closed[u] = 1
        if columns[u] > columns[best]:
            best = u
        if columns[u] >= goal:
            return True, parent, u
        gu = -neg_g
        for e in range(bounds[u], bounds[u + 1]):
            v = dst[e]
            new_g = gu + cost[e]
            if new_g < g[v] and not closed[v]:
                g[v] = new_g
                parent[v] = e
                # Ties go to the deeper node, so runs along flat ground go straight ahead.
                heapq.heappush(heap, (new_g + max(goal - columns[v], 0) / RUN_SPEED, -new_g, v))
    return False, parent, best


def _path(grid: _Grid, nodes: np.ndarray, moves: dict, parent: list[int], node: int) -> tuple[tuple[int, int], ...]:
    """Cells from the start to `node`, following parent moves and dropping repeated cells."""
    pieces = []
    while parent[node] >= 0:
        e = parent[node]
        prev = int(moves["src"][e])
        move = (int(moves[k][e]) for k in ("arc", "step", "fall", "fall_step"))
        pieces.append(grid.move_cells(int(nodes[prev]), *move))
        node = prev
    cells = [grid.cell(nodes[node])]
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
        return f"a wall {row - top + 1} tiles high"
    ahead = grid.code[row + HEADROOM, grid.pad + nxt]
    if ahead in (STOMP, HAZARD):
        return "an enemy in the way" if ahead == STOMP else "a hazard in the way"
    footing = grid.code[HEADROOM : HEADROOM + grid.height, grid.pad + nxt : grid.pad + grid.width] == FOOTING
    reachable = footing[max(row - MAX_JUMP, 0) :].any(0)  # no higher than a full jump
    gap = int(reachable.argmax()) if reachable.any() else len(reachable)
    if gap:
        return f"gap of {gap} columns"
    return "no reachable footing ahead"

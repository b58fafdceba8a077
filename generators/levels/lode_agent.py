"""A Lode Runner solvability agent: can the runner collect every gold and then reach the top row?

Model, on the static map (VGLC's Lode Runner tiles, read by their legend tags):
- Solid tiles ("solid": brick `b`, which is also "diggable", and stone `B`) are never entered.
  Everything else is open: empty, gold, ladders ("ladder"), ropes ("rope"), the spawn, enemies.
- The runner rests where something holds him: a solid tile or a ladder under him, the bottom row,
  or a ladder or rope in his own cell. Anywhere else he falls one row per step; a ladder or rope
  he falls into catches him.
- Resting, he walks left or right into an open cell, climbs up a ladder, goes down a ladder or lets
  go of a rope (down into an open cell), or digs: standing on solid ground or a ladder, he digs the
  diggable brick below-left or below-right and drops into the hole, when the cell above that brick
  is open, or is itself a diggable brick he could have dug first (the staircase a runner digs to go
  down several rows; timing is not modelled). A hole refills behind him, so a dug brick is a
  one-way door down.
- Gold is collected in any cell he passes, falling included. Enemies are not modelled: a runner can
  trap them in holes, and the originals' rate below says what that simplification costs.

Because falls and digs are one-way, collecting every gold is an ordering question: the cells form
a graph whose strongly connected components are ordered by reachability, and one run follows a path
through them. The most gold one run can collect (`gold_collectable`) is the heaviest such path from
the spawn's component, each component weighing the gold it holds; the level is solvable when that
is every gold, and short of that it is a graded score for a search towards solvable levels
(`lode_playable`). In the game, collecting the last gold reveals hidden ladders to the top; VGLC's
maps do not hold them, so reaching the top row is reported (`top_reachable`) but not required.
Coordinates are (row, column).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from generators.core.errors import UserError


@dataclass(frozen=True)
class LodeResult:
    """Whether the level is solvable, and what the runner can reach from the spawn."""

    solvable: bool
    gold: int  # gold tiles on the map
    gold_reachable: int  # of them, reachable from the spawn (in some order or not)
    gold_collectable: int  # of them, the most one run from the spawn collects (all: solvable)
    top_reachable: bool  # a top-row cell can be reached from the spawn
    reason: str  # "" when solvable, else a short human sentence


def tile_kinds(level, legend: dict) -> dict[str, np.ndarray]:
    """(H, W) bool masks of each kind of tile, by legend tags."""
    chars = np.array([list(row) for row in level.rows])

    def having(tag: str) -> np.ndarray:
        return np.isin(chars, [c for c, tags in legend.items() if tag in (t.lower() for t in tags)])

    return {
        "solid": having("solid"),
        "diggable": having("diggable"),
        "ladder": having("ladder"),
        "rope": having("rope"),
        "gold": having("gold"),
        "spawn": having("spawn"),
        "enemy": having("enemy"),
    }


def moves(kinds: dict[str, np.ndarray]) -> list[list[int]]:
    """Successors of every cell (index y * W + x) under the movement model of the docstring."""
    solid, ladder, rope, diggable = kinds["solid"], kinds["ladder"], kinds["rope"], kinds["diggable"]
    height, width = solid.shape
    graph: list[list[int]] = [[] for _ in range(height * width)]
    for y in range(height):
        for x in range(width):
            here = graph[y * width + x]
            below_solid = y + 1 == height or solid[y + 1, x]
            held = below_solid or ladder[y, x] or rope[y, x] or (y + 1 < height and ladder[y + 1, x])
            if not held:
                here.append((y + 1) * width + x)  # falling
                continue
            for dx in (-1, 1):
                if 0 <= x + dx < width and not solid[y, x + dx]:
                    here.append(y * width + x + dx)
            if ladder[y, x] and y > 0 and not solid[y - 1, x]:
                here.append((y - 1) * width + x)
            if y + 1 < height and not solid[y + 1, x]:
                here.append((y + 1) * width + x)  # down a ladder, or letting go of a rope
            if below_solid or ladder[y, x] or (y + 1 < height and ladder[y + 1, x]):
                for dx in (-1, 1):
                    side = x + dx
                    if 0 <= side < width and y + 1 < height and diggable[y + 1, side]:
                        if not ladder[y, side] and (not solid[y, side] or diggable[y, side]):
                            here.append((y + 1) * width + side)  # dig, step over, drop into the hole
    return graph


def _components(graph: list[list[int]]) -> list[int]:
    """Strongly connected component of each node (iterative Tarjan), numbered in reverse topological order."""
    index, low, on_stack, comp = {}, {}, set(), [-1] * len(graph)
    stack, count, counter = [], 0, 0
    for root in range(len(graph)):
        if root in index:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, i = work[-1]
            if i < len(graph[node]):
                work[-1] = (node, i + 1)
                nxt = graph[node][i]
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp[member] = count
                    if member == node:
                        break
                count += 1
    return comp


def _reachable(graph: list[list[int]], start: int) -> set[int]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in graph[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _spawn(kinds: dict[str, np.ndarray]) -> int:
    """The cell index the runner starts from (the first spawn tile), or a UserError."""
    spawns = np.flatnonzero(kinds["spawn"])
    if len(spawns) == 0:
        raise UserError("this Lode Runner level has no spawn tile (M), so nobody can play it")
    return int(spawns[0])


def reachable(level, legend: dict) -> np.ndarray:
    """(H, W) bool: the cells the runner can reach from the spawn, in some order or other."""
    kinds = tile_kinds(level, legend)
    mask = np.zeros(kinds["solid"].size, dtype=bool)
    mask[list(_reachable(moves(kinds), _spawn(kinds)))] = True
    return mask.reshape(kinds["solid"].shape)


def _most_collectable(graph: list[list[int]], start: int, golds: list[int]) -> int:
    """The most gold one run from `start` collects: the gold-heaviest path through the components."""
    comp = _components(graph)
    weight = [0] * (max(comp) + 1)
    for gold in golds:
        weight[comp[gold]] += 1
    successors: list[list[int]] = [[] for _ in weight]  # repeats are harmless and cheaper than sets
    for node, nexts in enumerate(graph):
        here = comp[node]
        for nxt in nexts:
            if comp[nxt] != here:
                successors[here].append(comp[nxt])
    # Tarjan numbers components in reverse topological order: successors come first.
    best = [0] * len(weight)
    for c, after in enumerate(successors):
        best[c] = weight[c] + max([best[d] for d in after], default=0)
    return best[comp[start]]


def solve(level, legend: dict) -> LodeResult:
    """Whether the runner can collect every gold of `level` in one run (see the module docstring)."""
    kinds = tile_kinds(level, legend)
    width = kinds["solid"].shape[1]
    start = _spawn(kinds)
    graph = moves(kinds)
    reach = _reachable(graph, start)
    golds = [int(g) for g in np.flatnonzero(kinds["gold"])]
    got = sum(g in reach for g in golds)
    top_reachable = bool(set(range(width)) & reach)
    collectable = _most_collectable(graph, start, golds)
    if got < len(golds):
        reason = f"{len(golds) - got} of {len(golds)} gold out of reach"
    elif collectable < len(golds):
        reason = "the gold cannot all be collected in one run"
    else:
        reason = ""
    return LodeResult(not reason, len(golds), got, collectable, top_reachable, reason)


def is_lode_runner(legend: dict) -> bool:
    """Whether a legend has Lode Runner's tiles (ladders, ropes, gold, a spawn) for this agent."""
    tags = {t.lower() for tile in legend.values() for t in tile}
    return {"ladder", "rope", "gold", "spawn"} <= tags

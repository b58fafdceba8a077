"""Mario's movement as the Mario AI framework's engine computes it, tick by tick, for the playability
agent (`agent.py`). The facts below were read from the framework's Mario sprite (engine/sprites/
Mario.java of the public Mario AI Framework, the engine inside MarioGPT's PlayAstar.jar) and checked
against the jar itself on hand-made levels (tests/levels/test_level_agent.py gives those numbers).

Per game tick (pixels; a tile is 16 px; y grows downwards):
- horizontal: holding a direction adds 1.2 px/tick to the speed (0.6 without the run button), on the
  ground and in the air alike; Mario moves by the speed, then it decays by a factor 0.89. So running
  from rest covers v0 + 1.2, then (v0 + 1.2) * 0.89 + 1.2, ... and tends to 9.71 px/tick (10.9 px per
  tick moved). Running from rest reaches 3.6 px/tick after 12 px, 6.3 after 2.5 tiles, 8.5 after
  7.4 tiles and 9.1 after 11 tiles. Letting go (coasting) only decays the speed.
- vertical: a jump sets the upward speed to 13.3 px/tick and, while the button is held (up to 7 more
  ticks), to 1.9 px/tick times the ticks left (13.3, 11.4, ... 1.9); otherwise, each tick in the air,
  the speed decays by 0.85 and gravity adds 3 px/tick. A full jump lifts the feet 66.5 px (4.2 tiles).
- the hitbox is 9 px wide (4 px either side of x) and 24 px tall when large, as PlayAstar starts him.

Speeds are kept as a whole number of ticks of running from rest (`RUN_SPEEDS[n]`): a run of k more
ticks is n + k exactly, whatever the speed it started from, so the agent can track speed without
rounding it away.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

TILE = 16  # px
RUN_ACCEL = 1.2  # px/tick added per tick with the run button and a direction held
INERTIA = 0.89  # horizontal speed kept per tick, on the ground and in the air
JUMP_SPEED = 1.9  # px/tick per jump tick left
JUMP_TICKS = 7  # ticks the jump button keeps lifting after take-off
AIR_DRAG = 0.85  # vertical speed kept per tick in the air
GRAVITY = 3.0  # px/tick added per tick in the air
HALF_WIDTH = 4  # px either side of Mario's x
MAX_TICKS = 40  # speed states: ticks of running from rest (v[40] = 9.62, the limit is 9.71)

RUN_SPEEDS = tuple(
    # speed after n ticks of running from rest, before the move of tick n+1
    RUN_ACCEL * INERTIA * (1 - INERTIA**n) / (1 - INERTIA)
    for n in range(MAX_TICKS + 1)
)
TOP_STEP = RUN_SPEEDS[-1] + RUN_ACCEL  # px moved in one tick at the top speed: the A* estimate's speed


def clamp_ticks(n: int) -> int:
    return min(max(n, 0), MAX_TICKS)


def ticks_of_speed(speed: float) -> int:
    """The speed state of a speed: the most ticks of running whose speed is not above it."""
    n = 0
    while n < MAX_TICKS and RUN_SPEEDS[n + 1] <= speed + 1e-9:
        n += 1
    return n


@lru_cache(maxsize=4096)
def run_ticks(n: int, distance: float) -> int:
    """Ticks to run `distance` px holding the direction, from speed state n."""
    ticks, moved = 0, 0.0
    while moved < distance:
        moved += RUN_SPEEDS[clamp_ticks(n + ticks)] + RUN_ACCEL
        ticks += 1
    return ticks


@dataclass(frozen=True)
class Trajectory:
    """One jump (or a walk off a ledge) from take-off: Mario's offset and speed after each tick."""

    dx: tuple[float, ...]  # px forward, after each tick
    dy: tuple[float, ...]  # px, down positive
    speed: tuple[float, ...]  # horizontal speed (px/tick) after each tick
    rising: tuple[bool, ...]  # the tick moved up


@lru_cache(maxsize=1024)
def trajectory(takeoff: int, hold: int, run: bool, ticks: int = 90, delay: int = 0) -> Trajectory:
    """From speed state `takeoff`, holding jump for `hold` ticks (0: no jump, a walk off a ledge; 1-7),
    with the direction held (`run`) from tick `delay` on, or let go."""
    speed, vy = RUN_SPEEDS[clamp_ticks(takeoff)], 0.0
    x = y = 0.0
    dx, dy, speeds, rising = [], [], [], []
    for tick in range(ticks):
        if hold and tick == 0:
            vy = -JUMP_TICKS * JUMP_SPEED
        elif hold and tick <= hold:
            vy = -(JUMP_TICKS + 1 - tick) * JUMP_SPEED
        if run and tick >= delay:
            speed += RUN_ACCEL
        x += speed
        y += vy
        dx.append(x)
        dy.append(y)
        rising.append(vy < 0)
        speed *= INERTIA
        vy = vy * AIR_DRAG + GRAVITY
        speeds.append(speed)
    return Trajectory(tuple(dx), tuple(dy), tuple(speeds), tuple(rising))


def landing_ticks(takeoff: int, run: bool, delay: int, ticks: int, speed: float) -> int:
    """The speed state on landing after `ticks` in the air, `speed` px/tick (exact when running all along)."""
    return clamp_ticks(takeoff + ticks) if run and not delay else ticks_of_speed(speed)

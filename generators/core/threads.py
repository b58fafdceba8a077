"""How many CPU threads torch uses, chosen on purpose rather than left to its default.

Torch's default pool takes every core and its OpenMP workers spin while they wait. On a machine
that is busy with other work a descheduled worker then stalls every parallel region, which made
`train` and `sample --playable` up to 10× slower. So: intra-op threads default to the CPUs this
process may run on (capped at 8), inter-op threads to 1 (the models run one op at a time), and
OpenMP workers sleep instead of spin when they wait (`OMP_WAIT_POLICY=PASSIVE`, set before torch
is imported, in `generators/__init__.py`). `--threads N` and the app's setting override the count.
"""

from __future__ import annotations

import os

MAX_DEFAULT_THREADS = 8
MAX_THREADS = 256  # what --threads accepts (CLI and app): torch's pool crashes the process at a million
_inter_op_set = False


def available_cpus() -> int:
    """CPUs this process may run on (its affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads() -> int:
    return max(1, min(MAX_DEFAULT_THREADS, available_cpus()))


def configure_threads(requested: int | None = None) -> int:
    """Size torch's thread pools: `requested` intra-op threads (None: `default_threads`). Returns it."""
    global _inter_op_set
    import torch

    threads = default_threads() if requested is None else int(requested)
    torch.set_num_threads(threads)
    if not _inter_op_set:
        try:
            torch.set_num_interop_threads(1)  # allowed once, before any inter-op work
        except RuntimeError:
            pass
        _inter_op_set = True
    return threads

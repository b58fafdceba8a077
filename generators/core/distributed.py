"""Where a training process runs: its rank among the processes `torchrun` started, and its
device. A plain `python main.py train` is rank 0 of a world of one, with no process group.

Under `torchrun --nnodes N --nproc_per_node M main.py train ...` each process reads RANK,
WORLD_SIZE and LOCAL_RANK from the environment and joins one process group: NCCL when CUDA
is there, gloo on CPUs. Only rank 0 writes files or reports progress.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Placement:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def default_device(local_rank: int = 0) -> torch.device:
    """CUDA when present (one GPU per local process), else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    return torch.device("cpu")


def join_from_environment() -> Placement:
    """Join the torchrun process group if this process was started by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Placement(device=default_device())
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = default_device(local_rank)
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Placement(rank=rank, world_size=world, device=device)


def leave(placement: Placement) -> None:
    """Leave the process group (a no-op for a single process)."""
    if placement.distributed and dist.is_initialized():
        dist.destroy_process_group()


def sum_across(tensor: torch.Tensor, placement: Placement) -> torch.Tensor:
    """Element-wise sum of `tensor` over every process (itself for a single process)."""
    if placement.distributed:
        tensor = tensor.to(placement.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        tensor = tensor.cpu()
    return tensor


def barrier(placement: Placement) -> None:
    if placement.distributed:
        dist.barrier()

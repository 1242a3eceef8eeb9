"""Data-parallel training under `torchrun`: one process per GPU (or CPU process with gloo).

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them everything here is a no-op and
training runs as one process. Each optimiser step's batch is the same on every rank (the
batch order comes from the same seeded generator); rank r takes rows r, r+W, r+2W, ... of it,
and losses are weighted by rows / global batch rows, so DistributedDataParallel's gradient
average equals the single-process gradient of the whole batch. Rank 0 alone validates (and
broadcasts the result), writes checkpoints and saves the model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_from_env(device: torch.device) -> tuple[DistContext, torch.device]:
    """Join the process group torchrun describes; pick this rank's GPU. One process: (DistContext(), device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(), device
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(rank, world, local_rank), device


def current() -> DistContext:
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return DistContext()


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    if current().active:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def all_gather_object(obj) -> list:
    """Every rank's `obj`, in rank order (one process: [obj])."""
    if not current().active:
        return [obj]
    out = [None] * current().world
    dist.all_gather_object(out, obj)
    return out


def broadcast(obj):
    """Rank 0's `obj` on every rank."""
    if not current().active:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_tensors(tensors) -> None:
    """Overwrite each tensor with rank 0's copy (after a re-initialisation that drew different numbers)."""
    if current().active:
        for tensor in tensors:
            dist.broadcast(tensor.data, src=0)


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()

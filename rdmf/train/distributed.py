"""Multi-process training through PyTorch's DDP, launched with ``torchrun``.

``torchrun --nproc_per_node N -m rdmf train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK; every
process then takes its contiguous share of each global batch (the global batch size stays
``config.optim.batch_size``), gradients are averaged by DDP, and only rank 0 evaluates and writes.
Backend: NCCL on CUDA, gloo on CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device_type: str = "cpu") -> DistInfo:
    """Initialise the process group when launched by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend=backend, rank=info.rank, world_size=world)
    return info


def shard(indices: list[int], info: DistInfo) -> list[int]:
    """This process's contiguous share of a global batch (sizes differ by at most one)."""
    if not info.enabled:
        return indices
    n = len(indices)
    bounds = [n * r // info.world_size for r in range(info.world_size + 1)]
    return indices[bounds[info.rank]:bounds[info.rank + 1]]


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def cleanup(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()

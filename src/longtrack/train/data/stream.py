"""The sample stream: global sample ``n`` is key ``(n // samples_per_epoch, n % samples_per_epoch)``.

Step ``s`` consumes samples ``s * B ... s * B + B - 1`` (``B``: the global batch size); under
DDP each of the ``world_size`` processes takes its own contiguous ``B / world_size`` of them.
So a run with 2 processes sees exactly the samples of a run with 1, and a resumed run
restarts at the sample where its checkpoint stopped.
"""
from __future__ import annotations

from typing import Iterator

from ...errors import LongtrackError

__all__ = ["StreamBatchSampler"]


class StreamBatchSampler:
    """Yields, for every step from ``start_step`` on, this rank's list of ``(epoch, index)`` keys."""

    def __init__(self, samples_per_epoch: int, global_batch: int, rank: int = 0, world_size: int = 1,
                 start_step: int = 0):
        if global_batch % world_size:
            raise LongtrackError(f"train.batch_size {global_batch} does not split evenly over "
                                 f"{world_size} processes")
        self.samples_per_epoch = samples_per_epoch
        self.global_batch = global_batch
        self.local_batch = global_batch // world_size
        self.rank = rank
        self.start_step = start_step

    def keys_for_step(self, step: int) -> list[tuple[int, int]]:
        first = step * self.global_batch + self.rank * self.local_batch
        return [divmod(n, self.samples_per_epoch) for n in range(first, first + self.local_batch)]

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start_step
        while True:
            yield self.keys_for_step(step)
            step += 1

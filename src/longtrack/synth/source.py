"""On-the-fly synthetic data for training: sequences made on demand, never written to disk."""
from __future__ import annotations

from collections import OrderedDict

from ..errors import LongtrackError
from .sequence import SynthSequence, make_sequence


class SynthSource:
    """An indexable collection of ``num`` synthetic sequences of one preset and split.

    ``source[k]`` is ``make_sequence(preset, split, k, size, seed)`` (with ``seed``: ``seed + k``);
    the ``cache`` most recently used sequences keep their canvas, sprites and ground truth, so
    sampling many frames from one sequence pays the set-up once. Picklable: each DataLoader
    worker rebuilds its own cache. Every sequence carries all objects' boxes
    (``seq.objects``) for multi-instance training. ``source_root``: the training root of the
    ``lt-real`` preset (None: the repository's ``../shared/data/real-train``).
    """

    def __init__(self, preset: str = "lt", split: str = "train", num: int = 1000, size=None,
                 seed: int | None = None, num_frames: int | None = None, cache: int = 4, *,
                 source_root=None):
        if int(num) < 1:
            raise LongtrackError(f"a synthetic source needs at least one sequence, got {num}")
        self.preset, self.split, self.num = preset, split, int(num)
        self.size, self.seed, self.num_frames = size, seed, num_frames
        self.source_root = None if source_root is None else str(source_root)
        self.cache_size = max(int(cache), 1)
        self._cache: OrderedDict[int, SynthSequence] = OrderedDict()
        self[0]  # fail now on a bad preset, split or size

    def __len__(self) -> int:
        return self.num

    def __getitem__(self, k: int) -> SynthSequence:
        k = int(k)
        if not 0 <= k < self.num:
            raise IndexError(f"synthetic source has sequences 0..{self.num - 1}, asked for {k}")
        if k in self._cache:
            self._cache.move_to_end(k)
            return self._cache[k]
        seq = make_sequence(self.preset, self.split, k, self.size,
                            None if self.seed is None else self.seed + k, self.num_frames, self.source_root)
        self._cache[k] = seq
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return seq

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        return state

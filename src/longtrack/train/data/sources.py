"""Where training videos come from: the synthetic world (on the fly) or a dataset on disk.

Both are presented as ``Video``s: random access to RGB frames, the target's boxes and
visibility, and every visible instance with a global identity (for cross-query and re-id
losses). A dataset annotates only its target, so its videos have one instance.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from ...datasets.evaluation_only import refuse_for_training
from ...errors import LongtrackError
from ..config import SourceConfig

__all__ = ["Video", "VideoSource", "SyntheticSource", "DatasetSource", "combine_sources", "build_sources"]

# Identities of a synthetic video's objects are its index * this + the object's own identity.
MAX_OBJECTS_PER_VIDEO = 64


class Video(Protocol):
    """One training video. ``target_boxes`` is ``(N, 4)`` xywh, ``target_visible`` ``(N,)`` bool.
    ``instance_ids`` lists every annotated instance (the target among them) and
    ``instance_frames`` the number of frames each is visible in; ``with_target(i)`` is the same
    video with instance ``i`` as its target (``data.targets: instances``)."""

    name: str
    target_boxes: np.ndarray
    target_visible: np.ndarray
    target_identity: int
    instance_ids: np.ndarray
    instance_frames: np.ndarray

    def __len__(self) -> int: ...

    def frame(self, index: int) -> np.ndarray:
        """``H x W x 3`` uint8 RGB."""

    def instances(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Visible instances in frame ``index``: ``(M, 4)`` xywh boxes, ``(M,)`` int64 identities,
        the target first when it is visible."""

    def with_target(self, identity: int) -> "Video": ...


class VideoSource(Protocol):
    num_identities: int

    def __len__(self) -> int: ...

    def video(self, index: int) -> Video: ...


def _valid_boxes(boxes: np.ndarray) -> np.ndarray:
    return np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)


class _SyntheticVideo:
    def __init__(self, seq, index: int, target: int | None = None):
        """``target``: the identity (as in ``instance_ids``) of the object to track; None: the
        sequence's own target."""
        self._seq, self._index = seq, index
        self.name = f"synthetic-{index}"
        offset = index * MAX_OBJECTS_PER_VIDEO
        objects = seq.objects
        for obj in objects:
            if not 0 <= int(obj.identity) < MAX_OBJECTS_PER_VIDEO:
                raise LongtrackError(f"{self.name}: object identity {obj.identity} outside "
                                     f"[0, {MAX_OBJECTS_PER_VIDEO})")
        own = None if target is None else int(target) - offset  # the object's identity in the sequence
        if own is not None and not any(int(o.identity) == own for o in objects):
            raise LongtrackError(f"{self.name}: no object with identity {target}")
        # The target first.
        objects = sorted(objects, key=lambda o: not o.is_target if own is None else int(o.identity) != own)
        self._ids = np.array([offset + int(o.identity) for o in objects], dtype=np.int64)
        self._boxes = np.stack([np.asarray(o.boxes, dtype=np.float64).reshape(-1, 4) for o in objects])
        self._visible = np.stack([np.asarray(o.visible, dtype=bool) for o in objects]) & np.stack(
            [_valid_boxes(b) for b in self._boxes])
        self.target_identity = int(self._ids[0])
        if target is None:  # the sequence's ground truth (absence as the benchmark defines it)
            self.target_boxes = np.asarray(seq.boxes, dtype=np.float64).reshape(-1, 4)
            self.target_visible = ~np.asarray(seq.absent, dtype=bool) & _valid_boxes(self.target_boxes)
        else:
            self.target_boxes, self.target_visible = self._boxes[0], self._visible[0]
        order = np.argsort(self._ids)
        self.instance_ids, self.instance_frames = self._ids[order], self._visible.sum(axis=1)[order]

    def with_target(self, identity: int) -> "_SyntheticVideo":
        return _SyntheticVideo(self._seq, self._index, int(identity))

    def __len__(self) -> int:
        return len(self.target_boxes)

    def frame(self, index: int) -> np.ndarray:
        return self._seq.render(index)

    def instances(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        keep = self._visible[:, index]
        return self._boxes[keep, index], self._ids[keep]


class SyntheticSource:
    """The first ``num_sequences`` synthetic videos of a preset and split (``longtrack.synth``'s
    ``SynthSource``: made when first drawn, the ``cache`` most recent kept per process)."""

    def __init__(self, cfg: SourceConfig):
        from ...synth import SynthSource  # the synthetic world; imported only when used

        size = tuple(cfg.frame_size) if cfg.frame_size is not None else None
        extra = {} if cfg.source_root is None else {"source_root": cfg.source_root}
        if cfg.source_root is not None:
            refuse_for_training(cfg.source_root, "data source 'synthetic' (lt-real source_root)")
        self._source = SynthSource(preset=cfg.preset, split=cfg.split or "train", num=cfg.num_sequences,
                                   size=size, cache=cfg.cache, **extra)
        self.cfg = cfg
        self.num_identities = cfg.num_sequences * MAX_OBJECTS_PER_VIDEO

    def __len__(self) -> int:
        return len(self._source)

    def video(self, index: int) -> Video:
        return _SyntheticVideo(self._source[index], index)


class _DatasetVideo:
    def __init__(self, seq, identity: int):
        self._seq = seq
        self.name = seq.name
        self.target_boxes = seq.boxes
        self.target_visible = ~seq.absent & seq.labelled & _valid_boxes(seq.boxes)
        self.target_identity = identity
        self.instance_ids = np.array([identity], dtype=np.int64)  # a dataset annotates its target only
        self.instance_frames = np.array([self.target_visible.sum()])

    def with_target(self, identity: int) -> "_DatasetVideo":
        if identity != self.target_identity:
            raise LongtrackError(f"{self.name}: instance {identity} is not annotated (only the target is)")
        return self

    def __len__(self) -> int:
        return len(self._seq)

    def frame(self, index: int) -> np.ndarray:
        return self._seq.frame(index)

    def instances(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.target_visible[index]:
            return np.zeros((0, 4)), np.zeros((0,), dtype=np.int64)
        return self.target_boxes[index:index + 1], np.array([self.target_identity], dtype=np.int64)


class DatasetSource:
    """The sequences of a dataset that ``longtrack.datasets.load_dataset`` reads; each
    sequence's target is one identity."""

    def __init__(self, cfg: SourceConfig):
        from ...datasets import load_dataset

        refuse_for_training(cfg.root, f"data source '{cfg.name}'")
        sequences = [s for s in load_dataset(cfg.name, cfg.root, split=cfg.split)
                     if (_valid_boxes(s.boxes) & ~s.absent).any()]
        if not sequences:
            raise LongtrackError(f"data source '{cfg.name}' at {cfg.root} (split {cfg.split or 'default'})"
                                 " has no sequence with a visible annotated target")
        self.cfg = cfg
        self._sequences = sequences
        self.num_identities = len(sequences)

    def __len__(self) -> int:
        return len(self._sequences)

    def video(self, index: int) -> Video:
        return _DatasetVideo(self._sequences[index], index)


class _OffsetIdentities:
    """A source whose identities are shifted so that sources never share one."""

    def __init__(self, source: VideoSource, offset: int):
        self.source = source
        self.offset = offset

    def __len__(self) -> int:
        return len(self.source)

    def video(self, index: int) -> Video:
        video = self.source.video(index)
        if self.offset == 0:
            return video
        return _ShiftedVideo(video, self.offset)


class _ShiftedVideo:
    def __init__(self, video: Video, offset: int):
        self._video = video
        self.offset = offset
        self.name = video.name
        self.target_boxes = video.target_boxes
        self.target_visible = video.target_visible
        self.target_identity = video.target_identity + offset
        self.instance_ids = video.instance_ids + offset
        self.instance_frames = video.instance_frames

    def with_target(self, identity: int) -> "_ShiftedVideo":
        return _ShiftedVideo(self._video.with_target(identity - self.offset), self.offset)

    def __len__(self) -> int:
        return len(self._video)

    def frame(self, index: int) -> np.ndarray:
        return self._video.frame(index)

    def instances(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        boxes, ids = self._video.instances(index)
        return boxes, ids + self.offset


def combine_sources(sources: list[VideoSource], weights=None) -> tuple[list[VideoSource], np.ndarray, int]:
    """Sources with disjoint identities, their sampling probabilities, and the identity count."""
    shifted, offset = [], 0
    for source in sources:
        shifted.append(_OffsetIdentities(source, offset))
        offset += source.num_identities
    weights = np.ones(len(sources)) if weights is None else np.asarray(weights, dtype=np.float64)
    return shifted, weights / weights.sum(), offset


def build_sources(configs) -> tuple[list[VideoSource], np.ndarray, int]:
    """The sources a config's ``data.sources`` names (see ``combine_sources``)."""
    sources = [SyntheticSource(cfg) if cfg.on_the_fly else DatasetSource(cfg) for cfg in configs]
    return combine_sources(sources, [cfg.weight for cfg in configs])

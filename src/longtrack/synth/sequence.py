"""``SynthSequence``: one synthetic video with exact multi-object ground truth, rendered on demand."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import LongtrackError
from .annotate import annotate
from .planner import SequencePlan, plan_sequence
from .presets import GENERATOR_VERSION, check_size, get_preset, get_split, split_of
from .render import build_assets, render_frame


@dataclass(frozen=True)
class SynthObject:
    """One object's ground truth. ``boxes``: ``(N, 4)`` float64 xywh of its visible part clipped to
    the frame (zeros where not visible); ``visible``: ``(N,)`` bool."""

    identity: int
    class_name: str
    is_target: bool
    boxes: np.ndarray
    visible: np.ndarray
    role: str = "target"  # target, distractor (same class), other, occluder


class SynthSequence:
    """A synthetic sequence. Cheap to create (a plan of per-frame numbers); the canvas and
    sprites are made on the first ``render`` and the ground truth on first access.

    Frames are ``(H, W, 3)`` uint8 RGB; boxes are xywh float64 in pixels.
    """

    def __init__(self, plan: SequencePlan, split: str | None, index: int):
        self.plan = plan
        self.preset = plan.preset.name
        self.split = split
        self.index = index
        self.seed = plan.seed
        self.class_name = plan.objects[0].class_name
        self.name = f"{self.class_name}-{index + 1}"
        self.width, self.height = plan.width, plan.height
        self._lock = threading.Lock()
        self._assets = None

    def __len__(self) -> int:
        return self.plan.num_frames

    def __repr__(self) -> str:
        return (f"SynthSequence({self.name!r}, preset={self.preset!r}, split={self.split!r}, seed={self.seed}, "
                f"{self.width}x{self.height}, {len(self)} frames)")

    def __getstate__(self):  # picklable for DataLoader workers; caches are rebuilt there
        state = self.__dict__.copy()
        state["_lock"] = None
        state["_assets"] = None
        for key in ("_visibility", "_render_geometry", "objects"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ frames
    def render(self, i: int) -> np.ndarray:
        """Frame ``i`` (any order; frames ``0..i-1`` are not needed) as ``(H, W, 3)`` uint8 RGB."""
        i = int(i)
        if not 0 <= i < len(self):
            raise IndexError(f"{self.name} has frames 0..{len(self) - 1}, asked for {i}")
        if self._assets is None:
            with self._lock:
                if self._assets is None:
                    self._assets = build_assets(self.plan)
        hulls, velocities = self._render_geometry
        return render_frame(self.plan, self._assets, i, hulls, velocities)

    def iter_frames(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self.render(i)

    @cached_property
    def _render_geometry(self):
        cut = 0.25 * min(self.width, self.height)
        hulls = {o.identity: o.appearance.shape.hull() for o in self.plan.objects}
        velocities = {o.identity: o.velocity(cut) for o in self.plan.objects}
        return hulls, velocities

    # ------------------------------------------------------------ ground truth
    @cached_property
    def _visibility(self):
        geometries = [o.geometry() for o in self.plan.objects]
        result = annotate(geometries, self.plan.draw_order, self.width, self.height, self.plan.preset.absent_below)
        if not result[0].visible[0]:
            raise RuntimeError(f"{self.name}: the target is not visible in the first frame (generator bug)")
        return result

    @property
    def boxes(self) -> np.ndarray:
        """``(N, 4)`` float64 xywh: the visible target box clipped to the frame; zeros where absent."""
        return self._visibility[0].boxes

    @property
    def absent(self) -> np.ndarray:
        """``(N,)`` bool: less than ``absent_below`` of the target is visible."""
        return ~self._visibility[0].visible

    @property
    def out_of_view(self) -> np.ndarray:
        """``(N,)`` bool: absent because (mostly) outside the frame."""
        return self.absent & (self._visibility[0].in_view_fraction < self.plan.preset.absent_below)

    @property
    def full_occlusion(self) -> np.ndarray:
        """``(N,)`` bool: absent while inside the frame, hidden by something in front."""
        return self.absent & ~self.out_of_view

    @property
    def visible_fraction(self) -> np.ndarray:
        """``(N,)`` float: share of the target that can be seen."""
        return self._visibility[0].visible_fraction

    @property
    def init_box(self) -> tuple[float, float, float, float]:
        return tuple(float(v) for v in self.boxes[0])

    @cached_property
    def objects(self) -> list[SynthObject]:
        """Every object (target first, then distractors, other objects, occluders)."""
        return [SynthObject(o.identity, o.class_name, o.role == "target", vis.boxes, vis.visible, o.role)
                for o, vis in zip(self.plan.objects, self._visibility)]

    @property
    def events(self) -> list[dict]:
        """``[{"type", "start", "end" (exclusive), "parameters"}, ...]`` sorted by start."""
        return self.plan.events

    def meta(self) -> dict:
        """JSON-able description: generator, settings, events and every object's boxes (lt-real:
        and the real frames of the background, one per camera segment)."""
        backgrounds = {} if self.plan.background is None else {"background": [
            {"start": start, **background.describe()} for start, background in self.plan.background]}
        return {**backgrounds,
            "generator": "longtrack.synth", "version": GENERATOR_VERSION,
            "name": self.name, "class": self.class_name, "preset": self.preset, "split": self.split,
            "index": self.index, "seed": self.seed, "size": [self.width, self.height],
            "num_frames": len(self), "absent_below": self.plan.preset.absent_below,
            "events": self.events,
            "objects": [{
                "identity": o.identity, "class": o.class_name, "is_target": o.is_target, "role": o.role,
                "appearance": plan.appearance.describe(),
                "drift": None if plan.drift is None else {"kind": plan.drift_kind, **plan.drift.describe()},
                "boxes": o.boxes.tolist(), "visible": o.visible.astype(int).tolist(),
            } for o, plan in zip(self.objects, self.plan.objects)],
        }

    def to_sequence(self):
        """This sequence as the ``longtrack.datasets.Sequence`` every reader yields (frames rendered
        on demand; the frame paths are where ``write_lasot`` would put them)."""
        from ..datasets.sequence import Sequence

        folder = Path(self.class_name) / self.name / "img"
        frames = [folder / f"{i + 1:08d}.jpg" for i in range(len(self))]
        return Sequence(
            name=self.name, frames=frames, boxes=self.boxes, absent=self.absent,
            attributes={"full_occlusion": self.full_occlusion, "out_of_view": self.out_of_view},
            image_size=(self.width, self.height),
            meta={"class": self.class_name, "synthetic": True, "seed": self.seed, "preset": self.preset},
            loader=partial(_render_frame_file, self))


def _render_frame_file(seq: SynthSequence, path) -> np.ndarray:
    """Loader of ``to_sequence``: ``.../img/00000042.jpg`` is frame 41."""
    return seq.render(int(Path(path).stem) - 1)


def make_sequence(preset: str = "lt", split: str = "test", index: int = 0, size=None, seed: int | None = None,
                  num_frames: int | None = None, source_root=None) -> SynthSequence:
    """The synthetic sequence ``index`` of ``split`` (deterministic).

    ``seed=None`` uses the split's seed for ``index`` (splits never share a seed); an explicit
    ``seed`` overrides it, and the sequence then belongs to the split whose range holds that seed
    (``seq.split``, None beyond all ranges). ``size=(W, H)`` overrides the preset's frame size and ``num_frames``
    its drawn length (events are scaled to fit; too few frames is an error). ``source_root``: the
    training root that ``lt-real`` cuts its objects and backgrounds from (None: the repository's
    ``../shared/data/real-train``; evaluation sets are refused); only ``lt-real`` takes one.
    """
    config = get_preset(preset)
    index = int(index)
    if index < 0:
        raise LongtrackError(f"sequence index must be >= 0, got {index}")
    if seed is None:
        seed = get_split(split).seed(index)
    else:
        if split is not None:
            get_split(split)
        seed = int(seed)
        if not 0 <= seed < 2**63:
            raise LongtrackError(f"seed must be a non-negative integer, got {seed}")
        split = split_of(seed)
    width, height = check_size(config.size if size is None else size)
    if num_frames is not None and int(num_frames) < 2:
        raise LongtrackError(f"num_frames must be >= 2, got {num_frames}")
    looks = None
    if config.appearance == "real":
        from .real_looks import RealLooks
        from .real_source import load_source_index

        looks = RealLooks(load_source_index(source_root))
    elif source_root is not None:
        raise LongtrackError(f"a source root is only for the lt-real preset, not {preset!r}")
    return SynthSequence(plan_sequence(config, seed, width, height, num_frames, looks), split, index)


def iter_sequences(preset: str, split: str, num: int, size=None, seed: int | None = None,
                   num_frames: int | None = None, source_root=None) -> Iterator[SynthSequence]:
    """Sequences ``0..num-1`` of a split; with ``seed``, sequence ``k`` uses ``seed + k``."""
    if int(num) < 1:
        raise LongtrackError(f"the number of sequences must be >= 1, got {num}")
    for k in range(int(num)):
        yield make_sequence(preset, split, k, size, None if seed is None else int(seed) + k, num_frames, source_root)

"""Frames-per-second measurements of trackers (``longtrack bench``).

Speed is measured here and written to reports, never asserted by tests. The protocol:

* **threads** fixed in the measuring process (``set_threads``: torch and OpenCV);
* **warm-up**: the tracker is initialised and tracks the clip's first frames, untimed;
* **repeats**: each repeat initialises the tracker on frame 0 (timed as ``initialize``) and
  tracks every later frame, each ``track`` call timed alone (image decoding is never timed:
  the clip is in memory);
* **phases**: a tracker that switches between following the target and searching for it says
  which one its last ``track`` call ran in the optional attribute ``last_phase`` (a string:
  classic-lt and TANet report ``"local"`` and ``"global"``); each frame's time is added to
  that phase. Trackers without the attribute report no phases;
* **figures**: the median over the repeats with its spread (minimum, maximum, quartiles);
* **load**: the load average is read and compared with the cores (``load_warning``).

For learned trackers ``size="paper"`` / ``"small"`` build that configuration at random
initialisation (only the time means anything); ``size=None`` builds the tracker as shipped.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .errors import LongtrackError

PHASE_ATTRIBUTE = "last_phase"  # optional tracker attribute: the phase of its last track() call


@dataclass(frozen=True)
class Spread:
    """Median of repeated measurements, with their range and quartiles."""

    median: float
    low: float
    high: float
    q1: float
    q3: float
    count: int


def spread(values: Sequence[float]) -> Spread:
    if len(values) == 0:
        raise LongtrackError("no measurement to summarise")
    arr = np.asarray(values, dtype=np.float64)
    q1, median, q3 = np.percentile(arr, [25, 50, 75])
    return Spread(float(median), float(arr.min()), float(arr.max()), float(q1), float(q3), len(arr))


@dataclass(frozen=True)
class RepeatTiming:
    """One timed pass over the clip: ``initialize`` on frame 0, ``track`` on the others."""

    init_seconds: float
    frames: int
    seconds: float  # sum of the track() calls
    phases: dict[str, tuple[int, float]] = field(default_factory=dict)  # phase -> (frames, seconds)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class Clip:
    """The frames every tracker of one run is timed on (frame 0 initialises) and the first box."""

    frames: list[np.ndarray]
    box: tuple[float, float, float, float]
    source: str  # what the frames are, for reports


def synthetic_clip(timed_frames: int, size: tuple[int, int]) -> Clip:
    """Frame 0 and ``timed_frames`` more of the fixed synthetic clip (fewer if it is shorter)."""
    from .synth import make_sequence

    seq = make_sequence(preset="mini", split="test", index=0, size=size)
    n = min(timed_frames + 1, len(seq))
    return Clip([seq.render(i) for i in range(n)], tuple(float(v) for v in seq.boxes[0]),
                f"synthetic mini/test/0 at {size[0]}x{size[1]}")


def supports_sizes(name: str) -> bool:
    """True when the tracker's factory takes ``size=`` (learned trackers with paper/small configs)."""
    import importlib
    import inspect

    from .registry import get_tracker_spec

    module_name, attr = get_tracker_spec(name).factory.split(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return "size" in inspect.signature(factory).parameters


def sequence_span(folder: str | os.PathLike, timed_frames: int | None, start: int = 0):
    """``(sequence, first, end)`` of a sequence in the LaSOT layout (``ROOT/<class>/<class>-<n>/``):
    ``first`` is the first frame at or after ``start`` with an annotated target, ``end`` is past
    the last of the ``timed_frames`` frames after it (None: to the end). Nothing is decoded."""
    from .datasets.lasot import class_of, load_sequence_dir

    path = Path(folder).expanduser()
    if not (path / "groundtruth.txt").is_file():
        raise LongtrackError(f"--sequence {folder}: no groundtruth.txt there (LaSOT layout: "
                             "ROOT/<class>/<class>-<n>/img/ + groundtruth.txt)")
    if path.parent.name != class_of(path.name):
        raise LongtrackError(f"--sequence {folder}: the folder must be named <class>-<n> inside <class>/")
    seq = load_sequence_dir(path.parent.parent, path.name)
    usable = [i for i in range(max(start, 0), len(seq))
              if not seq.absent[i] and np.all(np.isfinite(seq.boxes[i])) and np.all(seq.boxes[i][2:] > 0)]
    if not usable:
        raise LongtrackError(f"--sequence {folder}: no annotated target at or after frame {start}")
    first = usable[0]
    last = len(seq) if timed_frames is None else min(len(seq), first + 1 + timed_frames)
    if last - first < 2:
        raise LongtrackError(f"--sequence {folder}: fewer than 2 frames from frame {first}")
    return seq, first, last


def sequence_clip(folder: str | os.PathLike, timed_frames: int | None, start: int = 0) -> Clip:
    """The frames of ``sequence_span`` decoded, and the target's box in the first of them."""
    seq, first, last = sequence_span(folder, timed_frames, start)
    return Clip([seq.frame(i) for i in range(first, last)], tuple(float(v) for v in seq.boxes[first]),
                f"{seq.name} frames {first}-{last - 1}")


def set_threads(threads: int) -> dict[str, int]:
    """Fix torch's and OpenCV's thread counts in this process; returns what they now report."""
    import cv2
    import torch

    if threads < 1:
        raise LongtrackError(f"threads must be 1 or more, got {threads}")
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    return {"torch": torch.get_num_threads(), "opencv": cv2.getNumThreads()}


def reported_phase(tracker) -> str | None:
    phase = getattr(tracker, PHASE_ATTRIBUTE, None)
    return phase if isinstance(phase, str) and phase else None


def warm_up(tracker, clip: Clip, frames: int) -> None:
    """Untimed: initialise and track the first ``frames`` frames (lazy set-up, allocators, caches)."""
    tracker.initialize(clip.frames[0], clip.box)
    for frame in clip.frames[1:1 + frames]:
        tracker.track(frame)


def time_repeat(tracker, clip: Clip, synchronize: Callable[[], None] = lambda: None) -> RepeatTiming:
    """One timed pass: ``initialize`` on frame 0, then each ``track`` call timed by itself and
    added to the phase the tracker reports for it (``synchronize`` waits for a GPU)."""
    start = time.perf_counter()
    tracker.initialize(clip.frames[0], clip.box)
    synchronize()
    init_seconds = time.perf_counter() - start
    total, phases = 0.0, {}
    for frame in clip.frames[1:]:
        start = time.perf_counter()
        tracker.track(frame)
        synchronize()
        elapsed = time.perf_counter() - start
        total += elapsed
        phase = reported_phase(tracker)
        if phase is not None:
            count, seconds = phases.get(phase, (0, 0.0))
            phases[phase] = (count + 1, seconds + elapsed)
    return RepeatTiming(init_seconds, len(clip.frames) - 1, total, phases)


@dataclass(frozen=True)
class PhaseSummary:
    frames: float  # median frames per repeat in this phase
    fps: Spread  # over the repeats that had frames in it


@dataclass(frozen=True)
class BenchResult:
    tracker: str  # the name asked for
    built_as: str  # the tracker's own name (``tanet`` -> ``tanet:<its local tracker>``)
    size: str  # "shipped", "paper", "small" (learned trackers) or "default"
    weights: str  # the weights file or folder used, "random" or "-" (none needed)
    device: str
    threads: dict  # what torch and OpenCV reported in the measuring process
    frames: int  # timed frames per repeat
    warmup: int
    fps: Spread
    init_ms: Spread
    phases: dict[str, PhaseSummary]
    peak_rss_mb: float  # the measuring process's peak, the clip in memory included
    cuda_peak_mb: float | None
    repeats: list[RepeatTiming]
    peers: dict[str, dict] = field(default_factory=dict)  # peer -> {"fps": Spread, "ratio": float}


def summarize(repeats: list[RepeatTiming]) -> tuple[Spread, Spread, dict[str, PhaseSummary]]:
    """FPS over the repeats, ``initialize`` milliseconds, and the FPS of each reported phase."""
    fps = spread([r.fps for r in repeats])
    init_ms = spread([1000.0 * r.init_seconds for r in repeats])
    names = list(dict.fromkeys(p for r in repeats for p in r.phases))  # in the order they first ran
    phases = {}
    for name in names:
        runs = [r.phases[name] for r in repeats if name in r.phases and r.phases[name][1] > 0]
        if runs:
            phases[name] = PhaseSummary(float(np.median([r.phases.get(name, (0, 0.0))[0] for r in repeats])),
                                        spread([frames / seconds for frames, seconds in runs]))
    return fps, init_ms, phases


def peer_comparison(fps: Spread, peer_repeats: list[RepeatTiming]) -> dict:
    """A peer's FPS over the repeats run beside a tracker's, and the tracker's median over it."""
    peer = spread([r.fps for r in peer_repeats])
    return {"fps": peer, "ratio": fps.median / peer.median}


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15 minute load averages (None where the system has none)."""
    try:
        return tuple(float(v) for v in os.getloadavg())
    except (AttributeError, OSError):
        return None


def load_warning(load: tuple[float, float, float] | None, cores: int | None) -> str | None:
    """A warning when the 1-minute load is above one per core: the CPU is shared, the figures
    are noisy and slower than on an idle machine."""
    if load is None or not cores:
        return None
    if load[0] > cores:
        return (f"load average {load[0]:.2f} is above 1 per core ({cores} cores): other work shares "
                "the CPU; these figures are noisy and low")
    return None


def machine_info(device: str) -> dict:
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__,
            "machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "device": device}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def result_to_dict(result: BenchResult) -> dict:
    out = asdict(result)
    out["repeats"] = [{**asdict(r), "fps": r.fps} for r in result.repeats]
    return out

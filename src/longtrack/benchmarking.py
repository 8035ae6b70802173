"""Frames-per-second measurements of trackers (``longtrack bench``).

Speed is measured here and written to reports, never asserted by tests. Each tracker runs on
the same fixed synthetic clip; the first frames are warm-up and not timed. For learned trackers
``size="paper"`` builds the paper configuration (random weights: only the time means anything)
and ``size="small"`` the shipped small configuration.
"""
from __future__ import annotations

import inspect
import platform
import resource
import time
from dataclasses import asdict, dataclass

import numpy as np

from .errors import LongtrackError
from .registry import get_tracker_spec


@dataclass(frozen=True)
class BenchResult:
    tracker: str
    size: str  # "paper", "small" or "default" (trackers without sizes)
    device: str
    frames: int
    seconds: float
    fps: float
    ms_per_frame: float
    init_seconds: float
    peak_rss_mb: float
    cuda_peak_mb: float | None


def supports_sizes(name: str) -> bool:
    """True when the tracker's factory takes ``size=`` (learned trackers with paper/small configs)."""
    import importlib

    spec = get_tracker_spec(name)
    module_name, attr = spec.factory.split(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return "size" in inspect.signature(factory).parameters


def bench_clip(num_frames: int, size: tuple[int, int]):
    """The fixed clip every tracker is timed on: frames and the first box."""
    from .synth import make_sequence

    seq = make_sequence(preset="mini", split="test", index=0, size=size)
    n = min(num_frames, len(seq))
    return [seq.render(i) for i in range(n)], tuple(float(v) for v in seq.boxes[0])


def bench_tracker(name: str, frames: list[np.ndarray], box, *, size: str | None = None,
                  device: str = "cpu", warmup: int = 2, autocast: bool = False) -> BenchResult:
    if len(frames) < warmup + 2:
        raise LongtrackError(f"need at least {warmup + 2} frames to time {name}")
    import torch

    spec = get_tracker_spec(name)
    options = {"size": size} if size is not None else {}
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    ctx = torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=autocast)
    with ctx:
        tracker = spec.build(weights=None, device=device, **options)
        start = time.perf_counter()
        tracker.initialize(frames[0], box)
        init_seconds = time.perf_counter() - start
        for frame in frames[1:1 + warmup]:
            tracker.track(frame)
        if cuda:
            torch.cuda.synchronize()
        timed = frames[1 + warmup:]
        start = time.perf_counter()
        for frame in timed:
            tracker.track(frame)
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return BenchResult(
        tracker=name, size=size or "default", device=device, frames=len(timed), seconds=seconds,
        fps=len(timed) / seconds, ms_per_frame=1000.0 * seconds / len(timed),
        init_seconds=init_seconds, peak_rss_mb=peak_rss_mb,
        cuda_peak_mb=torch.cuda.max_memory_allocated() / 2**20 if cuda else None)


def machine_info(device: str) -> dict:
    import torch

    info = {"python": platform.python_version(), "torch": torch.__version__,
            "machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(), "device": device}
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def results_to_dicts(results: list[BenchResult]) -> list[dict]:
    return [asdict(r) for r in results]

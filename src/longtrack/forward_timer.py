"""Median wall and CPU time of a network's forward pass (the backbone speed tables)."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time

import torch
from torch import nn

from .benchmarking import load_average
from .fileio import atomic_write_text


def time_forward(model: nn.Module, x: torch.Tensor, bf16: bool, repeats: int) -> tuple[float, float]:
    """Median (wall seconds, process CPU seconds) of ``repeats`` forward passes."""
    device_type = x.device.type
    times, cpu_times = [], []
    with torch.inference_mode(), torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
        for i in range(repeats + 1):
            if device_type == "cuda":
                torch.cuda.synchronize()
            start, cpu_start = time.perf_counter(), time.process_time()
            model(x)
            if device_type == "cuda":
                torch.cuda.synchronize()
            if i > 0:  # the first run warms up allocators and kernels
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu_start)
    return statistics.median(times), statistics.median(cpu_times)


def timing_context(threads: int, device: str) -> dict:
    """Sets torch's intra-op threads; returns what the figures depend on (torch, processor,
    threads, device, 1-minute load average), for the table's first line and its JSON file."""
    torch.set_num_threads(threads)
    load = load_average()
    return {"torch": torch.__version__, "processor": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(), "device": str(torch.device(device)),
            "load_average_1min": load[0] if load else float("nan")}


def context_line(context: dict) -> str:
    """The table's first line: ``# torch V, PROCESSOR, N threads, device D, load average (1 min) L``."""
    return (f"# torch {context['torch']}, {context['processor']}, {context['threads']} threads, "
            f"device {context['device']}, load average (1 min) {context['load_average_1min']:.2f}")


def write_timings(path: str | os.PathLike, meta: dict, results: list[dict]) -> None:
    """``{"meta": meta, "results": results}`` as JSON, written atomically."""
    atomic_write_text(path, json.dumps({"meta": meta, "results": results}, indent=1))

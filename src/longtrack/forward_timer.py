"""Median wall and CPU time of a network's forward pass (the backbone speed tables)."""
from __future__ import annotations

import statistics
import time

import torch
from torch import nn


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

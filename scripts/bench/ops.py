"""Time the longtrack.ops at the sizes the trackers use; prints a markdown table.

    python scripts/bench/ops.py [--device cpu|cuda] [--threads 1] [--json FILE]

Each case runs float32, and where the op does floating-point work on model features also
with bf16: under ``torch.autocast`` with the features handed in as bf16, as a model running
under autocast would produce them. "fwd" times a forward call, "fwd+bwd" a forward and a
backward of ``out.sum()``. Reported: the median of repeated calls, in milliseconds: process
CPU time on the CPU (robust to other jobs sharing the cores), wall time on a GPU. The JSON
holds both clocks.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from longtrack.fileio import atomic_write_text
from longtrack.ops import (
    DeltaXYWHBBoxCoder,
    HungarianMatcher,
    MSDeformAttn,
    ModulatedDeformConvPack,
    batched_nms,
    extract_roi_features,
    gaussian_focal_loss,
    giou_loss,
    ms_deform_attn,
    nms,
    roi_align,
    sigmoid_focal_loss,
)


def timed_ms(fn: Callable[[], object], device: torch.device, min_seconds: float,
             max_runs: int) -> dict[str, float]:
    """Median wall time and median process CPU time of ``fn`` (ms), after two warm-up calls.

    On a shared CPU the process CPU time of a single-threaded run is the better estimate of
    the wall time an idle machine would show: it excludes the time spent waiting for a core.
    """
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(2):
        fn()
    sync()
    walls, cpus, start = [], [], time.perf_counter()
    while len(walls) < 3 or (time.perf_counter() - start < min_seconds and len(walls) < max_runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        sync()
        walls.append((time.perf_counter() - w0) * 1e3)
        cpus.append((time.process_time() - c0) * 1e3)
    return {"wall": statistics.median(walls), "cpu": statistics.median(cpus)}


def random_boxes(n: int, size: float, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    xy = torch.rand(n, 2, generator=gen) * size
    wh = torch.rand(n, 2, generator=gen) * size / 4 + 4
    return torch.cat([xy, xy + wh], 1).to(device)


def build_cases(device: torch.device):
    """(name, size, fn(dtype) -> callable, modes); modes among fwd / fwd+bwd, dtypes float32 / bf16."""
    gen = torch.Generator().manual_seed(0)
    cases = []

    def features(shape, dtype, grad):
        return torch.randn(*shape, generator=gen).to(device, dtype).requires_grad_(grad)

    # RCNN-stage RoIAlign (GlobalTrack: 7x7, sample_num 2, 256 channels, P2-P5 of an 800x1088 image).
    rois = torch.cat([torch.zeros(1000, 1), random_boxes(1000, 700, gen, torch.device("cpu"))], 1).to(device)
    strides = [4, 8, 16, 32]

    def multi_level(dtype, backward):
        feats = [features((1, 256, 800 // s, 1088 // s), dtype, backward) for s in strides]
        return lambda: extract_roi_features(feats, rois, strides, 7, 2, aligned=False, plus_one=True)
    cases.append(("extract_roi_features (4 levels, legacy)", "1000 RoIs, 256ch, 7x7, sr 2", multi_level))

    def single_level(dtype, backward):
        feat = features((1, 256, 50, 68), dtype, backward)
        return lambda: roi_align(feat, rois, 7, 1 / 16, 2, aligned=True)
    cases.append(("roi_align (aligned)", "1000 RoIs on 256x50x68, 7x7, sr 2", single_level))

    def adaptive(dtype, backward):
        feat = features((1, 256, 50, 68), dtype, backward)
        return lambda: roi_align(feat, rois, 7, 1 / 16, 0, aligned=True)
    cases.append(("roi_align (sampling_ratio=0)", "1000 RoIs on 256x50x68, 7x7, adaptive", adaptive))

    # DLA-34 IDA node of DMTrack at paper width: 3x3 DCNv2, 128 -> 128 channels, stride 8 of 512x736.
    def dcn(dtype, backward):
        layer = ModulatedDeformConvPack(128, 128, 3, padding=1).to(device)
        torch.nn.init.normal_(layer.conv_offset.weight, std=0.01)
        x = features((1, 128, 64, 92), dtype, backward)
        return lambda: layer(x)
    cases.append(("ModulatedDeformConvPack", "128->128, 3x3, 64x92", dcn))

    def plain_conv(dtype, backward):
        layer = torch.nn.Conv2d(128, 128, 3, padding=1).to(device)
        x = features((1, 128, 64, 92), dtype, backward)
        return lambda: layer(x)
    cases.append(("nn.Conv2d (for scale)", "128->128, 3x3, 64x92", plain_conv))

    # Deformable attention: Deformable-DETR encoder (every position queries) on 4 levels.
    shapes = torch.tensor([[60, 80], [30, 40], [15, 20], [8, 10]], device=device)
    starts = torch.cat([shapes.new_zeros(1), (shapes[:, 0] * shapes[:, 1]).cumsum(0)[:-1]])
    total = int((shapes[:, 0] * shapes[:, 1]).sum())

    def msda_core(dtype, backward):
        value = features((1, total, 8, 32), dtype, backward)
        loc = torch.rand(1, total, 8, 4, 4, 2, generator=gen).to(device).requires_grad_(backward)
        attn = torch.rand(1, total, 8, 4, 4, generator=gen).to(device).requires_grad_(backward)
        return lambda: ms_deform_attn(value, shapes, starts, loc, attn)
    cases.append(("ms_deform_attn core", f"Q=S={total}, 8 heads x 32, 4 levels x 4 points", msda_core))

    def msda_module(dtype, backward):
        layer = MSDeformAttn(256, 4, 8, 4).to(device)
        src = features((1, total, 256), dtype, backward)
        ref = torch.rand(1, total, 4, 2, generator=gen).to(device)
        return lambda: layer(src, ref, src, shapes, starts)
    cases.append(("MSDeformAttn layer", f"Q=S={total}, d 256", msda_module))

    # NMS at the sizes of the RPN (1000-5000 proposals) and the detector heads.
    for n in (1000, 5000):
        boxes = random_boxes(n, 800, gen, device)
        scores = torch.rand(n, generator=gen).to(device)
        cases.append(("nms (IoU 0.7)", f"{n} boxes",
                      lambda dtype, backward, b=boxes, s=scores: (lambda: nms(b, s, 0.7))))
    boxes = random_boxes(2000, 800, gen, device)
    scores = torch.rand(2000, generator=gen).to(device)
    labels = torch.randint(0, 2, (2000,), generator=gen).to(device)
    cases.append(("batched_nms (IoU 0.5)", "2000 boxes, 2 classes",
                  lambda dtype, backward: (lambda: batched_nms(boxes, scores, labels, 0.5))))

    coder = DeltaXYWHBBoxCoder(stds=(0.1, 0.1, 0.2, 0.2), plus_one=True)
    proposals = random_boxes(1000, 800, gen, device)
    deltas = torch.randn(1000, 8, generator=gen).to(device)
    cases.append(("DeltaXYWHBBoxCoder.decode", "1000 RoIs x 2 classes",
                  lambda dtype, backward: (lambda: coder.decode(proposals, deltas, (800, 1088)))))

    def focal(dtype, backward):
        logits = features((8, 20000, 1), dtype, backward)
        targets = (torch.rand(8, 20000, 1, generator=gen) > 0.99).float().to(device)
        return lambda: sigmoid_focal_loss(logits, targets, avg_factor=1000.0)
    cases.append(("sigmoid_focal_loss", "8 x 20000 logits", focal))

    def heatmap(dtype, backward):
        pred = torch.rand(32, 1, 24, 24, generator=gen).to(device, dtype).clamp(1e-4, 1 - 1e-4)
        pred.requires_grad_(backward)
        target = torch.rand(32, 1, 24, 24, generator=gen).to(device)
        target[:, 0, 12, 12] = 1
        return lambda: gaussian_focal_loss(pred, target)
    cases.append(("gaussian_focal_loss", "32 x 24x24 maps", heatmap))

    def giou(dtype, backward):
        pred = random_boxes(20000, 800, gen, device).to(dtype).requires_grad_(backward)
        target = random_boxes(20000, 800, gen, device).to(dtype)
        return lambda: giou_loss(pred, target)
    cases.append(("giou_loss", "20000 box pairs", giou))

    matcher = HungarianMatcher(2.0, 5.0, 2.0, focal=True)
    outputs = {"pred_logits": torch.randn(8, 300, 1, generator=gen).to(device),
               "pred_boxes": torch.rand(8, 300, 4, generator=gen).to(device) * 0.5 + 0.1}
    targets = [{"labels": torch.zeros(3, dtype=torch.long, device=device),
                "boxes": (torch.rand(3, 4, generator=gen) * 0.5 + 0.1).to(device)} for _ in range(8)]
    cases.append(("HungarianMatcher", "batch 8, 300 queries, 3 targets each",
                  lambda dtype, backward: (lambda: matcher(outputs, targets))))
    return cases


FLOAT_CASES_WITH_BF16 = {"extract_roi_features (4 levels, legacy)", "roi_align (aligned)",
                         "roi_align (sampling_ratio=0)", "ModulatedDeformConvPack", "nn.Conv2d (for scale)",
                         "ms_deform_attn core", "MSDeformAttn layer", "sigmoid_focal_loss",
                         "gaussian_focal_loss", "giou_loss"}


def run(device: torch.device, min_seconds: float, max_runs: int) -> list[dict]:
    """One row per case: ``{column: {"wall": ms, "cpu": ms}}`` for the columns that apply."""
    rows = []
    for name, size, make in build_cases(device):
        row = {"op": name, "size": size}
        float_work = name in FLOAT_CASES_WITH_BF16
        for dtype_name in ("float32", "bf16"):
            if dtype_name == "bf16" and not float_work:
                continue
            dtype = torch.float32 if dtype_name == "float32" else torch.bfloat16
            autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if dtype_name == "bf16"
                        else contextlib.nullcontext())
            with torch.no_grad(), autocast:
                fn = make(dtype, False)
                row[f"fwd {dtype_name}"] = timed_ms(fn, device, min_seconds, max_runs)
            if float_work:
                fn = make(dtype, True)

                def step(fn=fn, autocast=autocast):
                    with autocast:
                        out = fn()
                    out.float().sum().backward()
                row[f"fwd+bwd {dtype_name}"] = timed_ms(step, device, min_seconds, max_runs)
            print(f"  {name} [{size}] {dtype_name}: " + ", ".join(
                f"{k} {v['wall']:.2f} ms wall / {v['cpu']:.2f} ms cpu"
                for k, v in row.items() if k.endswith(dtype_name)), file=sys.stderr)
        rows.append(row)
    return rows


COLUMNS = ["fwd float32", "fwd bf16", "fwd+bwd float32", "fwd+bwd bf16"]


def markdown(rows: list[dict], clock: str) -> str:
    lines = ["| op | size | " + " | ".join(f"{c} (ms)" for c in COLUMNS) + " |",
             "|---|---|" + "---:|" * len(COLUMNS)]
    for row in rows:
        cells = [f"{row[c][clock]:.2f}" if c in row else "-" for c in COLUMNS]
        lines.append(f"| {row['op']} | {row['size']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--min-seconds", type=float, default=1.0, help="time budget per measurement")
    parser.add_argument("--max-runs", type=int, default=50, help="most calls per measurement")
    parser.add_argument("--json", type=Path, help="also write the rows and the machine as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    rows = run(device, args.min_seconds, args.max_runs)
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"{platform.processor() or platform.machine()}, {args.threads} thread(s)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {where}, {os.cpu_count()} CPUs, load average {load:.1f} at the end\n")
    # CPU: process time (see timed_ms); GPU: wall time, the CPU only launches kernels there.
    clock = "wall" if device.type == "cuda" else "cpu"
    print(f"clock: {clock} time, median per call\n")
    print(markdown(rows, clock))
    if args.json:
        report = {"torch": torch.__version__, "device": where, "load_average": load, "rows": rows}
        atomic_write_text(args.json, json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

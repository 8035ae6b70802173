"""Forward time of MobileNetV2 and EfficientNet-Lite0: fp32 / bf16 autocast, channels_last off / on.

    python scripts/bench/pretrained_backbones.py --threads 1 --repeats 10 [--device cpu] [--json out.json]

Each backbone runs batch 1 under ``torch.inference_mode()`` with all outputs (strides 8, 16, 32,
the last one the 1280-channel head) and truncated after stride 16 (``out_strides=(8, 16)``: the
later layers are skipped). Random weights: timing does not depend on the values. ``--warmup``
untimed passes, then the median of ``--repeats`` passes, as wall-clock and process CPU time (with one
thread the CPU time is the compute time even when other jobs share the machine).
"""
from __future__ import annotations

import argparse

import torch

from longtrack.backbones import PRETRAINED
from longtrack.forward_timer import context_line, time_forward, timing_context, write_timings

SIZES = ((256, 256), (192, 256), (360, 480))
OUTPUTS = {"8/16/32": (8, 16, 32), "8/16": (8, 16)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (CPU)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3, help="untimed passes before each measurement")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    context = timing_context(args.threads, args.device)
    device = torch.device(args.device)
    print(f"{context_line(context)}; median of {args.repeats}, ms wall / CPU")
    print("| backbone | outputs | input HxW | fp32 | fp32 channels_last | bf16 | bf16 channels_last |")
    print("|---|---|---|---|---|---|---|")
    results = []
    for name, spec in PRETRAINED.items():
        for label, strides in OUTPUTS.items():
            torch.manual_seed(0)
            model = spec.build(out_strides=strides).eval().to(device)
            for h, w in SIZES:
                x = torch.randn(1, 3, h, w, device=device)
                cells = []
                for bf16 in (False, True):
                    for channels_last in (False, True):
                        fmt = torch.channels_last if channels_last else torch.contiguous_format
                        model = model.to(memory_format=fmt)
                        xf = x.contiguous(memory_format=fmt)
                        time_forward(model, xf, bf16, args.warmup)  # oneDNN builds kernels per format
                        wall, cpu = time_forward(model, xf, bf16, args.repeats)
                        cells.append(f"{wall * 1e3:.1f} / {cpu * 1e3:.1f}")
                        results.append({"backbone": name, "out_strides": list(strides), "input_hw": [h, w],
                                        "bf16": bf16, "channels_last": channels_last,
                                        "wall_s": wall, "cpu_s": cpu})
                print(f"| {name} | {label} | {h}x{w} | " + " | ".join(cells) + " |", flush=True)
    if args.json:
        write_timings(args.json, {**context, "repeats": args.repeats, "warmup": args.warmup}, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

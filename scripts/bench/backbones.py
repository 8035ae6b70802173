"""Forward time of the CNN backbones (+ necks) at the papers' input sizes, fp32 and bf16 autocast.

    python scripts/bench/backbones.py --threads 1 --repeats 3 [--device cpu] [--json out.json]

Each model is built at paper width with random weights (timing does not depend on the values),
run once to warm up, then ``--repeats`` times under ``torch.inference_mode()``; the median is
reported, as wall-clock time and as the process's CPU time (with --threads 1 the CPU time is
the compute time even when other jobs share the machine; wall time then includes waiting).
Input sizes: a 1280x720 frame as each method's preprocessing makes it (see INPUTS).
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from longtrack.backbones.fpn import FPN
from longtrack.backbones.resnet import ResNet
from longtrack.forward_timer import context_line, time_forward, timing_context, write_timings


class WithNeck(nn.Module):
    def __init__(self, backbone: nn.Module, neck: nn.Module):
        super().__init__()
        self.backbone, self.neck = backbone, neck

    def forward(self, x: torch.Tensor):
        return self.neck(self.backbone(x))


def globaltrack() -> nn.Module:
    return WithNeck(ResNet(50), FPN([256, 512, 1024, 2048], 256, num_outs=5))


def dmtrack() -> nn.Module:
    from longtrack.backbones.dla import dla34  # needs longtrack.ops.deform_conv

    return WithNeck(dla34(), FPN([128, 256, 512], 256, num_outs=3))


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], nn.Module]
    input_hw: tuple[int, int]
    why: str


INPUTS = [
    Case("GlobalTrack ResNet-50 + FPN(256, P2-P6)", globaltrack, (768, 1344),
         "1280x720 resized to fit 1333x800 (1333x750), padded to /32"),
    Case("GTELT ResNet-50 conv4 (stride 16)", lambda: ResNet(50, num_stages=3, out_indices=(2,)), (480, 640),
         "test image resized to 640x480"),
    Case("GTELT ResNet-50 conv4, template", lambda: ResNet(50, num_stages=3, out_indices=(2,)), (128, 128),
         "128x128 template crop"),
    Case("TANet ResNet-18 (4 stages)", lambda: ResNet(18), (300, 300), "frames resized to 300x300"),
    Case("DMTrack DLA-34 + DCN IDA-up + FPN(256, P3-P5)", dmtrack, (416, 736),
         "1280x720 resized to fit 736x512 (736x414), padded to /32"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (CPU)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", default="", help="run the cases whose name contains this text")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    context = timing_context(args.threads, args.device)
    device = torch.device(args.device)
    print(context_line(context))
    print("| model | input HxW | params | fp32 ms (wall / CPU) | bf16 autocast ms (wall / CPU) |")
    print("|---|---|---|---|---|")
    results = []
    for case in INPUTS:
        if args.only and args.only not in case.name:
            continue
        torch.manual_seed(0)
        model = case.build().eval().to(device)
        x = torch.randn(1, 3, *case.input_hw, device=device)
        params = sum(p.numel() for p in model.parameters())
        fp32 = time_forward(model, x, bf16=False, repeats=args.repeats)
        bf16 = time_forward(model, x, bf16=True, repeats=args.repeats)
        h, w = case.input_hw
        print(f"| {case.name} | {h}x{w} | {params:,} | {fp32[0] * 1e3:.0f} / {fp32[1] * 1e3:.0f} "
              f"| {bf16[0] * 1e3:.0f} / {bf16[1] * 1e3:.0f} |", flush=True)
        results.append({"model": case.name, "input_hw": [h, w], "input_why": case.why, "params": params,
                        "fp32_wall_s": fp32[0], "fp32_cpu_s": fp32[1],
                        "bf16_wall_s": bf16[0], "bf16_cpu_s": bf16[1]})
    if args.json:
        write_timings(args.json, {**context, "repeats": args.repeats}, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

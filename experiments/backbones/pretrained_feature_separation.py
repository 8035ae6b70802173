"""Does a backbone's feature tell the target from the rest of the frame? Pretrained vs random weights.

    OMP_NUM_THREADS=1 python experiments/backbones/pretrained_feature_separation.py \
        [--root ../shared/data/real-val] [--frame-step 5] [--negatives 8] [--json out.json]

For every sequence (LaSOT layout, read with ``load_dataset("lasot", root)``), the target's
descriptor in the first frame is RoIAlign-pooled (``--pool`` x ``--pool`` bins, flattened) from
the stride-16 and the stride-32 map of the whole frame. In every ``--frame-step``-th later frame
where the target is visible, the same is done for the target's box and for ``--negatives`` random
boxes of the target's size inside the frame that overlap neither the target nor each other. A
trial is a hit when the first-frame descriptor is closer (cosine) to the target's than to every
negative's. Printed: the hit rate per backbone, weights (ImageNet or random init) and stride.
Negatives are drawn from a seeded generator, so the numbers repeat exactly.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from longtrack.backbones import IMAGENET_MEAN, IMAGENET_STD, PRETRAINED, load_pretrained
from longtrack.boxes import clip_xywh, is_valid, pairwise_iou
from longtrack.datasets import load_dataset
from longtrack.ops.roi_align import roi_align

STRIDES = (16, 32)
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Tally:
    hits: int = 0
    trials: int = 0

    @property
    def rate(self) -> float:
        return self.hits / self.trials if self.trials else float("nan")


def frame_tensor(image: np.ndarray) -> torch.Tensor:
    """``H x W x 3`` uint8 RGB -> ``[1, 3, H, W]`` ImageNet-normalised float."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
    mean, std = torch.tensor(IMAGENET_MEAN).view(3, 1, 1), torch.tensor(IMAGENET_STD).view(3, 1, 1)
    return ((x - mean) / std).unsqueeze(0)


def negative_boxes(target: np.ndarray, width: int, height: int, count: int, rng: np.random.Generator,
                   attempts: int = 400) -> np.ndarray:
    """Up to ``count`` xywh boxes of the target's size inside the frame, overlapping neither the
    target nor each other (fewer when the frame has no room)."""
    w, h = target[2], target[3]
    chosen = [target]
    for _ in range(attempts):
        if len(chosen) > count or w >= width or h >= height:
            break
        box = np.array([rng.uniform(0, width - w), rng.uniform(0, height - h), w, h])
        if pairwise_iou(box[None], np.array(chosen)).max() <= 0.0:
            chosen.append(box)
    return np.array(chosen[1:]).reshape(-1, 4)


def descriptors(maps: dict[int, torch.Tensor], boxes: np.ndarray, pool: int) -> dict[int, torch.Tensor]:
    """Per stride: ``[K, C * pool * pool]`` unit-length RoIAlign descriptors of the xywh boxes."""
    xyxy = torch.as_tensor(boxes, dtype=torch.float32).clone()
    xyxy[:, 2:] += xyxy[:, :2]
    rois = torch.cat([torch.zeros(len(xyxy), 1), xyxy], dim=1)
    return {s: F.normalize(roi_align(m, rois, pool, spatial_scale=1.0 / s).flatten(1), dim=1)
            for s, m in maps.items()}


def separation(model: nn.Module, sequences, frame_step: int, negatives: int, pool: int, seed: int,
               progress: bool = True) -> dict[int, Tally]:
    """Hit counts per stride over all sequences (see the module docstring)."""
    model.eval()
    tallies = {s: Tally() for s in STRIDES}
    todo = sum(len(range(frame_step, len(seq), frame_step)) for seq in sequences)
    with torch.inference_mode(), tqdm(total=todo, unit="frame", disable=not progress, leave=False) as bar:
        for index, seq in enumerate(sequences):
            rng = np.random.default_rng([seed, index])

            def stride_maps(i: int) -> tuple[dict[int, torch.Tensor], int, int]:
                image = seq.frame(i)
                return dict(zip(STRIDES, model(frame_tensor(image)))), image.shape[1], image.shape[0]

            maps, width, height = stride_maps(0)
            template = descriptors(maps, clip_xywh(seq.boxes[:1], width, height), pool)
            for i in range(frame_step, len(seq), frame_step):
                bar.update()
                if seq.absent[i]:
                    continue
                maps, width, height = stride_maps(i)
                target = clip_xywh(seq.boxes[i:i + 1], width, height)[0]
                if not is_valid(target) or min(target[2], target[3]) < 1:
                    continue
                others = negative_boxes(target, width, height, negatives, rng)
                if not len(others):
                    continue
                feats = descriptors(maps, np.vstack([target[None], others]), pool)
                for s in STRIDES:
                    similarity = feats[s] @ template[s][0]
                    tallies[s].trials += 1
                    tallies[s].hits += int(bool(similarity[0] > similarity[1:].max()))
    return tallies


def build(name: str, pretrained: bool, seed: int) -> nn.Module:
    if pretrained:
        return load_pretrained(name, out_strides=STRIDES)
    torch.manual_seed(seed)
    return PRETRAINED[name].build(out_strides=STRIDES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=REPO.parent / "shared" / "data" / "real-val")
    parser.add_argument("--frame-step", type=int, default=5, help="use every N-th frame after the first")
    parser.add_argument("--negatives", type=int, default=8, help="random other boxes per frame")
    parser.add_argument("--pool", type=int, default=3, help="RoIAlign bins per side of a descriptor")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sequences = load_dataset("lasot", args.root)
    rows = []
    for name in PRETRAINED:
        for pretrained in (True, False):
            tallies = separation(build(name, pretrained, args.seed), sequences, args.frame_step,
                                 args.negatives, args.pool, args.seed, progress=sys.stderr.isatty())
            for stride, tally in tallies.items():
                rows.append({"backbone": name, "weights": "ImageNet" if pretrained else "random init",
                             "stride": stride, "hits": tally.hits, "trials": tally.trials, "rate": tally.rate})
    print(f"{len(sequences)} sequences from {args.root}, every {args.frame_step}th frame, "
          f"{args.negatives} negatives, {args.pool}x{args.pool} RoIAlign descriptors")
    print("| backbone | weights | stride | target closest | trials |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['backbone']} | {r['weights']} | {r['stride']} | {100 * r['rate']:.1f}% | {r['trials']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()

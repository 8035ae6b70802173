"""How much the template's BatchNorm statistics change its feature: the template's conv4 feature
(pooled over the target box, as the selection's cosine uses it) computed with the template
batch's own statistics (training before ``model.template_norm: running``) against the running
statistics (inference), on batches of the real sampler.

    OMP_NUM_THREADS=1 python experiments/gtelt/template_norm_check.py [--weights FILE] [--samples 32] [--batch 4]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from longtrack.checkpoint import load_weights
from longtrack.train.config import load_config
from longtrack.train.methods.gtelt import build

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=str(REPO / "src/longtrack/weights/gtelt-synth.pt"))
    parser.add_argument("--config", default=str(REPO / "configs/gtelt-synth.yaml"))
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4, help="templates normalised together (the training batch)")
    args = parser.parse_args()
    torch.manual_seed(0)
    setup = build(load_config(args.config), "cpu")
    model, state = setup.model, load_weights(args.weights, method="gtelt").state_dict
    cosines = []
    for start in range(0, args.samples, args.batch):
        batch = setup.collate_fn([setup.dataset[(0, i)] for i in range(start, start + args.batch)])
        template, box = model.normalise(batch["template_images"][:, 0]), batch["template_boxes"][:, 0]
        with torch.no_grad():
            model.load_state_dict(state)
            running = model.eval().encode_template(template, box)["feature"]
            own = model.train().encode_template(template, box)["feature"]  # (moves the running statistics)
        cosines.append(F.cosine_similarity(running, own, dim=-1))
    cosines = torch.cat(cosines)
    print(f"{len(cosines)} templates in batches of {args.batch}: cosine(own-batch, running statistics) "
          f"mean {cosines.mean():.3f}, min {cosines.min():.3f}")


if __name__ == "__main__":
    main()

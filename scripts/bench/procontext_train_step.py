"""Training-step time of the small ProContEXT at other token geometries (before choosing one).

    OMP_NUM_THREADS=1 python scripts/bench/procontext_train_step.py

One AdamW step (forward, loss, backward) on a batch of 16 random crops, one thread, best of 5
after a warm-up, with all search tokens kept and with the model's elimination. Geometries:
patch / template / search pixels; the search grid is search / patch. The small configuration is
16 / 80 / 160 (grid 10: a target of 32 pixels is 2 x 2 tokens, where the paper's is ~4.8 x 4.8).
"""
from __future__ import annotations

import time

import torch

from longtrack.models.procontext import ProContEXTConfig
from longtrack.train.criteria.procontext import ProContEXTCriterion
from longtrack.train.methods.procontext import ProContEXTOnBatches

GEOMETRIES = [(16, 80, 160), (8, 48, 96), (16, 96, 192), (8, 64, 128)]


def step_seconds(patch: int, template: int, search: int, keep: float | None, batch_size: int = 16) -> float:
    config = ProContEXTConfig.small()
    config = ProContEXTConfig.from_dict({**config.to_dict(), "patch_size": patch, "template_size": template,
                                         "search_size": search})
    model, criterion = ProContEXTOnBatches(config), ProContEXTCriterion(regress_at=config.regress_at)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch = {"template_images": torch.randint(0, 255, (batch_size, 4, 3, template, template), dtype=torch.uint8),
             "search_images": torch.randint(0, 255, (batch_size, 1, 3, search, search), dtype=torch.uint8),
             "search_boxes": torch.tensor([[0.4, 0.4, 0.2, 0.2]]).mul(search).repeat(batch_size, 1)[:, None]}
    if keep is not None:
        batch["keep_ratio"] = torch.full((batch_size,), keep)
    times = []
    for _ in range(6):
        start = time.perf_counter()
        loss = criterion(model(batch), batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return min(times[1:])


def main() -> None:
    torch.set_num_threads(1)
    for patch, template, search in GEOMETRIES:
        all_kept, own = step_seconds(patch, template, search, 1.0), step_seconds(patch, template, search, None)
        print(f"patch {patch}, template {template}, search {search} (grid {search // patch}): "
              f"{all_kept:.3f} s all tokens, {own:.3f} s with elimination", flush=True)


if __name__ == "__main__":
    main()

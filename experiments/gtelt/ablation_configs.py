"""Write the training configs of GTELT's trained ablations (the paper's Tables 1 and 2).

Each variant is ``configs/gtelt-synth.yaml`` with one model field changed, and every variant
gets the same training budget (``--steps``), so the comparison is between architectures, not
between amounts of training. The inference-time ablations (OSDet online, memory length L) need
no config: ``longtrack eval --option temporal_transfer=false`` / ``--option memory_length=L``.

    python experiments/gtelt/ablation_configs.py --steps 800 --out runs/gtelt-ablation/configs \
        [--variants base osdet egt sgt n5 n20] [--num-workers 2] [--seed 1] [--init-from CKPT [--fresh PREFIX ...]]
    longtrack train runs/gtelt-ablation/configs/gtelt-egt.yaml --out runs/gtelt-ablation/egt

``--init-from`` (a weights file or checkpoint of the base recipe) makes every variant a fine-tuning
of one common trained model: each variant's model starts with every tensor of that file whose
name and shape fit it (the backbone and the encoder always; the decoder layers, head and TCA
unless the variant changes them) and the variant's own fresh initialisation for the rest (the
queries when N changes, the cross-attention for EGT). The file ``gtelt-<variant>-init.pt`` next to
the config holds that start; the config's ``train.init_weights`` names it. ``--fresh PREFIX ...`` starts the tensors under those
names fresh in every variant (``--fresh decoder.queries``: every variant, the base included,
learns its N queries from scratch, so the N variants differ only in N).

Variants (``model`` overrides):
    base   N = 10, L = 5, deformable cross-attention, temporal transfer (the shipped recipe)
    osdet  temporal_transfer: false  (OSDet: no temporal context transfer, also in training)
    egt    cross_attention: global   (EGT: global attention instead of deformable)
    sgt    num_trackers: 1           (SGT: one global tracker)
    n5     num_trackers: 5
    n20    num_trackers: 20
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
import yaml

from longtrack.checkpoint import load_weights, save_weights
from longtrack.models.gtelt import GTELT, GTELTConfig

REPO = Path(__file__).resolve().parents[2]
VARIANTS = {
    "base": {},
    "osdet": {"temporal_transfer": False},
    "egt": {"cross_attention": "global"},
    "sgt": {"num_trackers": 1},
    "n5": {"num_trackers": 5},
    "n20": {"num_trackers": 20},
}


def variant_config(base: dict, overrides: dict, steps: int, num_workers: int | None = None,
                   seed: int | None = None) -> dict:
    """``base`` (a parsed training config) with the model ``overrides`` and the step budget."""
    config = {**base, "model": {**base["model"], **overrides}, "train": {**base["train"], "steps": steps}}
    if seed is not None:  # another seed of the same variant: the run-to-run spread
        config["train"]["seed"] = seed
    # Checkpoints at a tenth of the run keep a long run resumable without filling the disk.
    config["train"]["ckpt_every"] = max(1, steps // 10)
    if num_workers is not None:
        config["data"] = {**base["data"], "num_workers": num_workers}
    return config


def fitting_start(start: dict[str, torch.Tensor], model: torch.nn.Module,
                  fresh_prefixes: tuple[str, ...] = ()) -> tuple[dict, list[str]]:
    """``model``'s state with every tensor of ``start`` whose name and shape fit it (except those
    under ``fresh_prefixes``), and the names of the tensors left at ``model``'s own initialisation."""
    state = model.state_dict()
    fresh = [k for k, v in state.items()
             if k not in start or start[k].shape != v.shape or k.startswith(fresh_prefixes)]
    return {k: (v if k in fresh else start[k].to(v.dtype)) for k, v in state.items()}, fresh


def write_init(path: Path, start_file: Path, config: dict, fresh_prefixes: tuple[str, ...] = ()) -> list[str]:
    """Save the variant's starting weights (see ``fitting_start``); returns the fresh tensors."""
    loaded = load_weights(start_file, method="gtelt")
    torch.manual_seed(int(config["train"]["seed"]))  # the variant's fresh parts: as a run of this seed
    model = GTELT(GTELTConfig.from_dict(config["model"], source=str(path)))
    state, fresh = fitting_start(loaded.state_dict, model, fresh_prefixes)
    save_weights(path, method="gtelt", config=config, state_dict=state, step=loaded.step,
                 source={"init_from": str(start_file), "fresh": fresh})
    return fresh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=REPO / "configs" / "gtelt-synth.yaml")
    parser.add_argument("--steps", type=int, required=True, help="training steps of every variant")
    parser.add_argument("--out", type=Path, required=True, help="folder for gtelt-<variant>.yaml")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--num-workers", type=int, default=None, help="DataLoader workers (default: the base's)")
    parser.add_argument("--seed", type=int, default=None, help="training seed (default: the base's); names "
                        "the files gtelt-<variant>-s<seed>.yaml")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="fine-tune every variant from this weights file or checkpoint (see above)")
    parser.add_argument("--fresh", nargs="+", default=[], metavar="PREFIX",
                        help="with --init-from: state keys under these prefixes start fresh in every variant")
    args = parser.parse_args()
    with open(args.base, encoding="utf-8") as handle:
        base = yaml.safe_load(handle)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.variants:
        suffix = "" if args.seed is None else f"-s{args.seed}"
        path = args.out / f"gtelt-{name}{suffix}.yaml"
        header = (f"# GTELT ablation '{name}{suffix}': {args.base.name} with model {VARIANTS[name] or '(unchanged)'}, "
                  f"{args.steps} steps\n")
        config = variant_config(base, VARIANTS[name], args.steps, args.num_workers, args.seed)
        if args.init_from is not None:
            init = (args.out / f"gtelt-{name}{suffix}-init.pt").resolve()
            fresh = write_init(init, args.init_from, config, tuple(args.fresh))
            config["train"]["init_weights"] = str(init)
            header += (f"# starting from {args.init_from} (every fitting tensor; fresh: "
                       f"{', '.join(sorted({k.rsplit('.', 1)[0] for k in fresh})) or 'none'})\n")
        body = yaml.safe_dump(config, sort_keys=False)
        path.write_text(header + body, encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()

"""TANet training: the criterion on hand-checked cases, Algorithm 1's schedule and gradient
routing, the samples, the configs, and a short resumable run of ``longtrack.train``."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from longtrack.models.tanet import TANetConfig
from longtrack.train import config_from_dict, load_config, train
from longtrack.train.config import DataConfig, SourceConfig
from longtrack.train.criteria.tanet import TANetCriterion
from longtrack.train.methods.tanet import ModelConfig, TANetGAN, phase_of
from longtrack.train.methods.tanet_data import TANetSamples, box_mask, collate_tanet
from longtrack.train.methods.tanet_metrics import map_scores, pixel_auc

REPO = Path(__file__).resolve().parents[2]
LOG2 = math.log(2.0)


def test_criterion_hand_checked():
    crit = TANetCriterion(lambda_app=0.1, lambda_mot=0.2)
    logits = torch.zeros(1, 3, 1, 4, 4)
    masks = torch.zeros(1, 3, 1, 4, 4)
    d_big = torch.tensor([[50.0]])  # sigmoid ~ 1
    d_zero = torch.zeros(1, 1)  # sigmoid = 0.5
    outputs = {"attention_logits": logits, "target_masks": masks, "phase": torch.tensor(0),
               "app_real": d_big, "app_fake": d_zero, "mot_real": d_zero, "mot_fake": d_big}
    losses = crit(outputs, {})
    assert losses["bce"].item() == pytest.approx(LOG2)  # every pixel at p = 0.5
    assert losses["gan_app"].item() == pytest.approx(LOG2)  # BCE(0.5, 1)
    assert losses["gan_mot"].item() == pytest.approx(0.0, abs=1e-6)  # D says real already
    assert losses["d_app"].item() == pytest.approx(0.0 + LOG2, abs=1e-6)
    assert losses["d_mot"].item() == pytest.approx(LOG2 + 50.0, rel=1e-6)  # fake called real: -log(1 - s(50))
    assert losses["loss"].item() == pytest.approx(LOG2 + 0.1 * LOG2 + 0.2 * 0.0, rel=1e-6)
    assert crit(dict(outputs, phase=torch.tensor(1)), {})["loss"].item() == pytest.approx(LOG2, abs=1e-6)
    assert crit(dict(outputs, phase=torch.tensor(2)), {})["loss"].item() == pytest.approx(LOG2 + 50.0, rel=1e-6)
    # A confident, right map: BCE near 0; BCE only without discriminator outputs.
    right = {"attention_logits": torch.full((1, 1, 1, 2, 2), 30.0), "target_masks": torch.ones(1, 1, 1, 2, 2),
             "phase": torch.tensor(0)}
    only = crit(right, {})
    assert set(only) == {"bce", "loss"} and only["loss"].item() < 1e-10


def test_algorithm_1_schedule():
    both = ModelConfig()
    names = "GAM"  # generator, appearance D, motion D
    assert "".join(names[phase_of(n, both)] for n in range(1, 17)) == "AGGMGAMGGMAGMGGA"
    assert "".join(names[phase_of(n, ModelConfig(adversarial="appearance"))] for n in range(1, 7)) == "AGGGGA"
    assert "".join(names[phase_of(n, ModelConfig(adversarial="motion"))] for n in range(1, 7)) == "MGGMGG"
    assert {phase_of(n, ModelConfig(adversarial="none")) for n in range(1, 30)} == {0}


def _tiny_batch(b=2, s=128):
    torch.manual_seed(0)
    masks = torch.zeros(b, 5, s, s)
    masks[:, :, 40:70, 50:90] = 1
    return {"frames": torch.randint(0, 255, (b, 5, 3, s, s), dtype=torch.uint8),
            "target": torch.randint(0, 255, (b, 3, s, s), dtype=torch.uint8),
            "masks": masks, "present": torch.ones(b, 5, dtype=torch.bool)}


def test_each_phase_moves_only_its_network():
    torch.manual_seed(0)
    cfg = ModelConfig(generator=TANetConfig(width=4, input_size=128, output_size=128))
    model = TANetGAN(cfg).train()
    crit = TANetCriterion()
    batch = _tiny_batch()
    parts = {"generator": model.generator, "appearance": model.appearance, "motion": model.motion}
    expected = {1: "appearance", 2: "generator", 4: "motion"}  # iterations 1 (A), 2 (G), 4 (M)
    for n in range(1, 5):
        model.zero_grad(set_to_none=True)
        outputs = model(batch)
        assert int(model.iteration) == n and int(outputs["phase"]) == phase_of(n, cfg)
        assert outputs["attention_logits"].shape == (2, 3, 1, 128, 128)
        crit(outputs, batch)["loss"].backward()
        if n not in expected:
            continue
        for name, part in parts.items():
            grads = [p.grad for p in part.parameters()]
            if name == expected[n]:
                assert all(g is not None for g in grads), (n, name)
            else:
                assert all(g is None for g in grads), (n, name)
    model.eval()
    assert int(model(batch)["phase"]) == 0 and int(model.iteration) == 4  # eval does not count


def test_unit_decoder_init_keeps_the_map_input_dependent():
    """PyTorch's default init shrinks the affine decoder's signal ~2x per layer (the map starts
    constant); ``decoder_init: unit`` gives each transposed conv weights of variance
    1 / (in_channels * k * k) and zero bias, so the map varies with its input from the start."""
    g = TANetConfig(width=4, input_size=128, output_size=128)
    torch.manual_seed(0)
    x, t, c = torch.rand(2, 3, 128, 128), torch.rand(2, 3, 128, 128), torch.rand(2, 3, 3, 128, 128)
    spread = {}
    for mode in ("default", "unit"):
        torch.manual_seed(0)
        generator = TANetGAN(ModelConfig(generator=g, adversarial="none", decoder_init=mode)).generator.eval()
        with torch.no_grad():
            spread[mode] = float(generator(x, t, c)["logits"].std(dim=(2, 3)).mean())
        if mode == "unit":
            first, head = generator.decoder[0], generator.head
            assert float(first.weight.std()) == pytest.approx((first.weight.shape[0] * 9) ** -0.5, rel=0.05)
            assert float(head.weight.std()) == pytest.approx(head.weight.shape[0] ** -0.5, rel=0.5)
            assert all(float(m.bias.abs().max()) == 0.0 for m in [*generator.decoder, head]
                       if isinstance(m, torch.nn.ConvTranspose2d))
    assert spread["default"] < 0.05 and spread["unit"] > 10 * spread["default"]


def test_init_generator_starts_a_gan_run_from_a_bce_run(tmp_path):
    """Table IV variants fine-tuned from one BCE-only generator: ``model.init_generator`` loads its
    generator (the file has no discriminators) and refuses a generator of another shape."""
    from longtrack.checkpoint import save_weights
    from longtrack.train.methods.tanet import build

    g = {"width": 4, "input_size": 128, "output_size": 128}
    torch.manual_seed(1)
    bce = TANetGAN(ModelConfig(generator=TANetConfig(**g), adversarial="none"))
    path = tmp_path / "bce.pt"
    save_weights(path, method="tanet", config={"model": {"generator": g, "adversarial": "none"}},
                 state_dict=bce.state_dict(), step=7)
    cfg = {"method": "tanet", "model": {"generator": g, "adversarial": "both", "init_generator": str(path),
                                        "eval_samples": 0},
           "data": {"sources": [{"name": "synthetic", "preset": "mini", "frame_size": [160, 120],
                                 "num_sequences": 2, "cache": 2}]},
           "optim": {"name": "adagrad", "lr": 1.0e-3, "weight_decay": 0.0}}
    model = build(config_from_dict(cfg), torch.device("cpu")).model
    assert model.appearance is not None and model.motion is not None
    for key, value in bce.generator.state_dict().items():
        assert torch.equal(model.generator.state_dict()[key], value), key
    cfg["model"]["generator"] = dict(g, width=8)
    with pytest.raises(Exception, match="init_generator"):
        build(config_from_dict(cfg), torch.device("cpu"))


def test_box_mask_hand_checked():
    mask = box_mask((10, 0, 20, 10), (40, 20), 4)  # frame 40x20 -> 4x4 cells of 10x5 pixels
    expected = np.zeros((4, 4), np.float32)
    expected[0:2, 1:3] = 1  # cell centres x 15, 25 and y 2.5, 7.5 lie inside
    assert np.array_equal(mask, expected)


def test_samples_are_consecutive_frames_with_matching_masks():
    data = DataConfig(sources=(SourceConfig("synthetic", preset="mini", frame_size=(160, 120), num_sequences=2,
                                            cache=2),), brightness_jitter=0.0, gray_prob=0.0, flip_prob=0.0)
    samples = TANetSamples(data, seed=0, input_size=64, output_size=32, num_frames=5)
    sample = samples[(0, 3)]
    assert sample["frames"].shape == (5, 3, 64, 64) and sample["frames"].dtype == np.uint8
    assert sample["masks"].shape == (5, 32, 32) and sample["target"].shape == (3, 64, 64)
    for k in range(5):
        assert (sample["masks"][k].sum() > 0) == bool(sample["present"][k])
    again = samples[(0, 3)]
    assert all(np.array_equal(sample[k], again[k]) for k in sample)  # keyed, deterministic
    batch = collate_tanet([sample, samples[(0, 4)]])
    assert batch["frames"].shape == (2, 5, 3, 64, 64)
    flipped = TANetSamples(DataConfig(sources=data.sources, brightness_jitter=0.0, gray_prob=0.0, flip_prob=1.0),
                           seed=0, input_size=64, output_size=32, num_frames=5)[(0, 3)]
    assert np.array_equal(flipped["frames"], sample["frames"][..., ::-1])
    assert np.array_equal(flipped["masks"], sample["masks"][..., ::-1])


def test_configs_parse_and_synth_matches_small():
    synth = load_config(REPO / "configs" / "tanet-synth.yaml")
    assert synth.method == "tanet" and synth.model.generator == TANetConfig.small()
    assert synth.model.adversarial == "both" and synth.optim.name == "adagrad"
    paper = load_config(REPO / "configs" / "tanet-paper.yaml")
    assert paper.model.generator == TANetConfig.paper()
    assert (paper.optim.name, paper.optim.lr, paper.train.batch_size) == ("adagrad", 1e-4, 1)
    assert (paper.model.lambda_app, paper.model.lambda_mot) == (0.1, 0.2)


def test_short_run_resumes_the_schedule(tmp_path):
    torch.set_num_threads(1)
    cfg = {"method": "tanet",
           "model": {"generator": {"width": 4, "input_size": 128, "output_size": 128}, "eval_samples": 2},
           "data": {"sources": [{"name": "synthetic", "preset": "mini", "frame_size": [160, 120],
                                 "num_sequences": 2, "cache": 2}], "samples_per_video": 4},
           "optim": {"name": "adagrad", "lr": 1.0e-3, "weight_decay": 0.0},
           "train": {"steps": 3, "batch_size": 2, "log_every": 1, "ckpt_every": 2, "tensorboard": False}}
    out = tmp_path / "run"
    train(config_from_dict(cfg), out, device="cpu")
    state = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    assert int(state["iteration"]) == 3
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3]
    assert {"bce", "gan_app", "gan_mot", "d_app", "d_mot"} <= set(steps[0])
    assert any("eval/peak_in_box" in r for r in records)
    assert all(0.0 <= r["eval/target_auc"] <= 1.0 for r in records if "eval/target_auc" in r)
    assert any("eval/target_auc" in r for r in records)
    cfg["train"]["steps"] = 4
    train(config_from_dict(cfg), out, resume=True, device="cpu")
    state = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
    assert int(state["iteration"]) == 4  # the schedule continues where it stopped


def test_pixel_auc_hand_checked():
    scores = np.array([[0.9, 0.1], [0.5, 0.5]])
    positive = np.array([[True, False], [True, False]])
    # pairs (pos, neg): (0.9, 0.1) 1, (0.9, 0.5) 1, (0.5, 0.1) 1, (0.5, 0.5) tie 1/2 -> 3.5 / 4
    assert pixel_auc(scores, positive, ~positive) == pytest.approx(0.875)
    assert pixel_auc(scores, ~positive, positive) == pytest.approx(0.125)
    assert math.isnan(pixel_auc(scores, np.zeros_like(positive), positive))


def test_map_scores_hand_checked():
    logits = np.zeros((2, 6, 6))
    target = np.zeros((2, 6, 6), np.float32)
    target[0, 2:4, 2:4] = 1  # map 0: target in the middle; map 1: target absent
    objects = np.zeros_like(target)
    objects[0, 0:2, 0:2] = 1
    logits[0, 2:4, 2:4] = 5.0
    logits[0, 0:2, 0:2] = 2.0
    logits[0, 5, 5] = 7.0  # the maximum: a border pixel outside the target
    logits[1, 2, 3] = 1.0  # an interior maximum
    s = map_scores(logits, target, objects)
    assert s["peak_in_box"] == 0.0 and s["peak_at_border"] == 0.5
    assert s["target_share"] == pytest.approx(4 / 36)
    assert s["target_auc"] == pytest.approx(31 / 32)  # 4 target pixels beat 31 of the 32 others
    assert s["objects_auc"] == pytest.approx(27 / 28)  # map 0 only: map 1 has no object
    assert s["target_vs_objects_auc"] == 1.0
    assert s["map_target"] == pytest.approx(1 / (1 + math.exp(-5)))
    logits[0, 5, 5] = 0.0
    assert map_scores(logits, target)["peak_in_box"] == 1.0

"""ProContEXT's small real-video configuration: the hybrid ViT (MobileNetV2 stem to stride 16 as
the patch embedding), its BatchNorm statistics, the ImageNet load, weights the tracker runs,
and the real-pair validation figures."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from longtrack.backbones.hybrid_embed import MobileNetV2PatchEmbed
from longtrack.backbones.mobilenetv2 import MobileNetV2
from longtrack.boxes import iou
from longtrack.crops import crop_region
from longtrack.errors import LongtrackError
from longtrack.models.procontext import ProContEXT, ProContEXTConfig
from longtrack.train import config_from_dict
from longtrack.train.config import load_config
from longtrack.train.methods import procontext as method
from longtrack.train.methods.procontext import ProContEXTOnBatches
from longtrack.train.methods.procontext_validation import clear_box, pair_evaluator, shifted_box
from longtrack.train.validation import ValidationPair
from shipped_weights import tracker_from_weights

torch.set_num_threads(1)
REPO = Path(__file__).resolve().parents[2]


def hybrid_config(**changes) -> ProContEXTConfig:
    """``ProContEXTConfig.real()`` at small crops and no ImageNet fetch (fast tests)."""
    changes.setdefault("pretrained_backbone", False)
    return dataclasses.replace(ProContEXTConfig.real(), template_size=64, search_size=128, depth=4,
                               ce_locations=(1, 2), ce_keep_ratios=(0.7, 0.7), **changes)


def test_the_stem_gives_the_patch_grid_of_the_patch_convolution():
    model = ProContEXT(hybrid_config()).eval()
    assert isinstance(model.backbone.patch_embed, MobileNetV2PatchEmbed)
    assert (model.backbone.template_grid, model.feat_size) == (4, 8)
    with torch.no_grad():
        tokens = model.backbone.patch_embed(torch.randn(2, 3, 64, 64))
        out = model(torch.randn(1, 4, 3, 64, 64), torch.randn(1, 3, 128, 128))
    assert tuple(tokens.shape) == (2, 16, 128)
    assert tuple(out["score_map"].shape) == (1, 1, 8, 8) and tuple(out["pred_boxes"].shape) == (1, 4)
    keys = model.state_dict()
    # MobileNetV2's entries 0-13 under torchvision's names; nothing past stride 16 is kept.
    assert "backbone.patch_embed.features.13.conv.0.weight" in keys
    assert not any(k.startswith("backbone.patch_embed.features.14.") for k in keys)


def test_the_paper_patch_convolution_stays_the_default():
    assert ProContEXTConfig.paper().patch_embed == "conv" and ProContEXTConfig.small().patch_embed == "conv"
    assert ProContEXTConfig.from_dict(ProContEXTConfig.small().to_dict()).patch_embed == "conv"
    with pytest.raises(LongtrackError, match="need patch_embed mobilenetv2"):
        dataclasses.replace(ProContEXTConfig.small(), pretrained_backbone=True)
    with pytest.raises(LongtrackError, match="stride 16"):
        hybrid_config(patch_size=8)
    with pytest.raises(LongtrackError, match="patch_embed must be"):
        ProContEXTConfig.from_dict({"patch_embed": "resnet"})


def test_the_shipped_config_is_the_real_preset():
    cfg = load_config(REPO / "configs" / "procontext-real.yaml")
    assert cfg.model == ProContEXTConfig.real()
    assert cfg.train.freeze[0].prefix == "backbone.patch_embed.features"
    assert cfg.data.validation.root.endswith("real-val")


def test_norm_eval_keeps_the_stem_statistics_in_training_mode():
    model = ProContEXT(hybrid_config()).train()
    bn = model.backbone.patch_embed.features[0][1]
    before = bn.running_mean.clone()
    model(torch.randn(2, 4, 3, 64, 64), torch.randn(2, 3, 128, 128))
    assert not bn.training and torch.equal(bn.running_mean, before)
    assert model.backbone.blocks[0].training and model.head.training
    trained = ProContEXT(hybrid_config(norm_eval=False)).train()
    trained(torch.randn(2, 4, 3, 64, 64), torch.randn(2, 3, 128, 128))
    assert not torch.equal(trained.backbone.patch_embed.features[0][1].running_mean, before)


def test_build_loads_the_imagenet_stem(monkeypatch):
    torch.manual_seed(5)
    imagenet = MobileNetV2(out_strides=(16,))
    calls = []

    def fake_load(name, **kwargs):
        calls.append((name, kwargs))
        return imagenet

    monkeypatch.setattr(method, "load_pretrained", fake_load)
    model_cfg = hybrid_config(pretrained_backbone=True)
    cfg = config_from_dict({
        "method": "procontext", "model": model_cfg.to_dict(),
        "data": {"sources": [{"name": "synthetic", "preset": "mini", "num_sequences": 2, "cache": 2}],
                 "kind": "pair", "samples_per_epoch": 4, "template_frames": 2,
                 "templates": [{"factor": 2.0, "size": 64}, {"factor": 4.0, "size": 64}],
                 "search": {"factor": 5.0, "size": 128}},
        "train": {"steps": 1, "batch_size": 2, "tensorboard": False}})
    setup = method.build(cfg, torch.device("cpu"))
    assert calls == [("mobilenetv2", {"out_strides": (16,)})]
    stem = setup.model.backbone.patch_embed.features.state_dict()
    for name, tensor in imagenet.features.state_dict().items():
        if int(name.split(".")[0]) <= 13:
            assert torch.equal(stem[name], tensor), name
    assert setup.evaluate is None  # no data.validation


def test_build_wires_the_real_pair_evaluator(monkeypatch):
    seen = {}

    def fake_pairs(validation, seed=0):
        seen["root"], seen["seed"] = validation.root, seed
        frame = np.zeros((120, 160, 3), dtype=np.uint8)
        return [ValidationPair("a", frame, np.array([60.0, 40.0, 20.0, 16.0]), frame, np.array([62.0, 41.0, 20.0, 16.0]))]

    monkeypatch.setattr("longtrack.train.methods.procontext_validation.validation_pairs", fake_pairs)
    cfg = config_from_dict({
        "method": "procontext", "model": hybrid_config().to_dict(),
        "data": {"sources": [{"name": "synthetic", "preset": "mini", "num_sequences": 2, "cache": 2}],
                 "kind": "pair", "samples_per_epoch": 4, "template_frames": 2,
                 "templates": [{"factor": 2.0, "size": 64}, {"factor": 4.0, "size": 64}],
                 "search": {"factor": 5.0, "size": 128},
                 "validation": {"dataset": "lasot", "root": "some/real-val", "pairs": 1}},
        "train": {"steps": 1, "batch_size": 2, "tensorboard": False, "seed": 3}})
    setup = method.build(cfg, torch.device("cpu"))
    assert seen == {"root": "some/real-val", "seed": 3}
    with torch.no_grad():
        assert set(setup.evaluate(setup.model.eval())) == {"real_iou50", "real_iou", "real_score_auc"}


def test_weights_of_a_hybrid_procontext_load_into_the_tracker(tmp_path):
    cfg = hybrid_config(pretrained_backbone=True)  # the tracker never fetches: the file holds the network
    torch.manual_seed(0)
    model = ProContEXT(dataclasses.replace(cfg, pretrained_backbone=False))
    tracker, pred = tracker_from_weights(tmp_path, "procontext", model, cfg, (120, 160), (60, 40, 30, 24))
    assert tracker.config.patch_embed == "mobilenetv2"
    assert len(pred.box) == 4 and np.isfinite(pred.box).all()


# -- validation figures ---------------------------------------------------------------------------

def test_shifted_and_clear_boxes():
    rng = np.random.default_rng(0)
    box = np.array([100.0, 80.0, 20.0, 10.0])
    for _ in range(50):
        moved = shifted_box(box, rng)
        assert abs(moved[0] + moved[2] / 2 - 110) <= 10 + 1e-9 and 1 / 1.2 - 1e-9 <= moved[2] / 20 <= 1.2 + 1e-9
        away = clear_box(box, (480, 640), 5.0, rng)
        crop = crop_region(away, 5.0, 1, (640, 480))  # the square crop_around cuts, rounded corner
        # one pixel of margin: bilinear resampling reads the pixel next to the crop's edge
        assert box[0] >= crop.x0 + crop.side + 1 or box[0] + box[2] <= crop.x0 - 1 or \
            box[1] >= crop.y0 + crop.side + 1 or box[1] + box[3] <= crop.y0 - 1
    assert clear_box(np.array([0.0, 0.0, 60.0, 60.0]), (64, 64), 5.0, rng) is None  # no room


class CentreBoxModel(torch.nn.Module):
    """Answers the box at the crop's centre, of side crop / search_factor (the shifted box made
    square), and a score of 1 where the search crop shows the white target, else 0."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.unused = torch.nn.Parameter(torch.zeros(1))  # where the evaluator reads the device

    def forward(self, batch):
        white = bool((batch["search_images"] == 255).all(dim=2).any())
        side = 1.0 / self.config.search_factor
        return {"pred_boxes": torch.tensor([[0.5, 0.5, side, side]]), "score": torch.tensor([float(white)])}


def test_the_evaluator_maps_boxes_to_the_frame_and_separates_scores():
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    truth = np.array([300.0, 200.0, 20.0, 20.0])
    frame[200:220, 300:320] = 255
    pairs = [ValidationPair("a", frame, truth, frame, truth)] * 8
    figures = pair_evaluator(pairs, seed=0)(CentreBoxModel(hybrid_config()))
    rng = np.random.default_rng([0, 11])  # the evaluator's draws: per pair a shift, then a clear place
    expected = []
    for _ in pairs:
        moved = shifted_box(truth, rng)
        clear_box(truth, frame.shape[:2], 5.0, rng)
        side = np.sqrt(moved[2] * moved[3])
        square = np.r_[moved[:2] + moved[2:] / 2 - side / 2, side, side]
        expected.append(float(iou(square, truth)))
    assert figures["real_iou"] == pytest.approx(np.mean(expected), abs=0.03)  # crops sit on whole pixels
    assert figures["real_score_auc"] == 1.0
    with pytest.raises(LongtrackError, match="no validation pairs"):
        pair_evaluator([])


def test_the_evaluator_runs_the_training_model():
    rng = np.random.default_rng(1)
    frame = (rng.random((240, 320, 3)) * 255).astype(np.uint8)
    pairs = [ValidationPair("a", frame, np.array([100.0, 100.0, 24.0, 20.0]), frame,
                            np.array([104.0, 98.0, 24.0, 20.0]))] * 2
    torch.manual_seed(0)
    with torch.no_grad():
        figures = pair_evaluator(pairs, seed=0)(ProContEXTOnBatches(hybrid_config()).eval())
    assert set(figures) == {"real_iou50", "real_iou", "real_score_auc"}
    assert np.isfinite(list(figures.values())).all()


def test_cached_template_tokens_give_the_same_outputs():
    torch.manual_seed(2)
    model = ProContEXT(hybrid_config()).eval()
    templates, search = torch.randn(1, 4, 3, 64, 64), torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        direct = model(templates, search)
        cached = model(None, search, template_tokens=model.embed_templates(templates))
    for key in ("score_map", "size_map", "offset_map", "score"):
        assert torch.equal(direct[key], cached[key]), key
    with pytest.raises(ValueError, match="expects 4 templates"):
        model.embed_templates(templates[:, :3])


def test_the_tracker_reuses_template_tokens_until_an_update(tmp_path):
    cfg = hybrid_config()
    torch.manual_seed(0)
    model = ProContEXT(cfg)
    tracker, _ = tracker_from_weights(tmp_path, "procontext", model, cfg, (120, 160), (60, 40, 30, 24))
    frame = (np.random.default_rng(4).random((120, 160, 3)) * 255).astype(np.uint8)
    tracker.update_interval, tracker.update_threshold = 2, -1.0  # an update every second frame
    tracker.initialize(frame, (60, 40, 30, 24))
    first = tracker.state.template_tokens
    tracker.track(frame)
    assert tracker.state.template_tokens is first  # no update on frame 1: the cache stands
    tracker.track(frame)
    assert tracker.state.updated and tracker.state.template_tokens is not first
    fresh = tracker.model.embed_templates(tracker.state.templates)
    for a, b in zip(fresh, tracker.state.template_tokens):
        assert torch.equal(a, b)

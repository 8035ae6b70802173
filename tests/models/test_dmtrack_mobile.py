"""DMTrack on ImageNet MobileNetV2 (the small real-video configuration): shapes, BatchNorm
statistics, the pretrained load, weights the tracker runs, and the real-pair validation figures."""
import dataclasses

import cv2
import numpy as np
import pytest
import torch

import longtrack
from longtrack.backbones.mobilenetv2 import MobileNetV2
from longtrack.backbones.pretrained import cache_status, load_pretrained
from longtrack.errors import LongtrackError
from longtrack.models.dmtrack import DMTrack, DMTrackConfig
from longtrack.models.dmtrack.config import MOBILENETV2_STRIDES
from longtrack.train.methods import dmtrack as method
from longtrack.train.methods.dmtrack import DMTrackForTraining, criterion_for
from longtrack.train.methods.dmtrack_validation import (PairCandidates, reid_pair_evaluator,
                                                        separation_figures)
from longtrack.train.validation import ValidationPair
from shipped_weights import tracker_from_weights

torch.set_num_threads(1)


def mobile_config(**changes) -> DMTrackConfig:
    """``DMTrackConfig.real()`` with thinner heads and small frames (fast tests)."""
    changes.setdefault("pretrained_backbone", False)
    return DMTrackConfig.real().replace(head_channels=16, mid_channels=8, gn_groups=8,
                                        reid_dim=8, reid_channels=8, input_size=(128, 96), **changes)


def test_mobilenetv2_feeds_the_fpn_with_c3_to_c5_and_re_id_with_c2():
    model = DMTrack(mobile_config()).eval()
    with torch.no_grad():
        feats = model.features(model.normalise(torch.rand(1, 3, 96, 128) * 255))
        embedding = model.embed(feats)
    assert [tuple(p.shape) for p in feats["pyramid"]] == [(1, 16, 12, 16), (1, 16, 6, 8), (1, 16, 3, 4)]
    assert tuple(feats["low"].shape) == (1, 24, 24, 32)  # MobileNetV2's stride-4 map has 24 channels
    assert tuple(embedding.shape) == (1, 8, 24, 32)
    assert model.backbone.out_channels == [24, 32, 96, 1280]
    assert model.reid.conv.in_channels == 24 + 16


def test_the_paper_backbone_stays_the_default():
    config = DMTrackConfig.paper()
    assert config.backbone == "dla34" and not config.norm_eval and not config.pretrained_backbone
    assert DMTrackConfig.from_dict(DMTrackConfig.small().to_dict()).backbone == "dla34"
    with pytest.raises(LongtrackError, match="needs backbone mobilenetv2"):
        DMTrackConfig.small().replace(pretrained_backbone=True)
    with pytest.raises(LongtrackError):
        DMTrackConfig.from_dict({"backbone": "resnet"})


def test_norm_eval_keeps_the_backbone_statistics_in_training_mode():
    model = DMTrack(mobile_config()).train()
    bn = model.backbone.features[0][1]
    before = bn.running_mean.clone()
    model.features(model.normalise(torch.rand(2, 3, 64, 64) * 255))
    assert not bn.training and torch.equal(bn.running_mean, before)
    assert model.neck.training and model.bbox_head.training
    trained = DMTrack(mobile_config(norm_eval=False)).train()
    trained.features(trained.normalise(torch.rand(2, 3, 64, 64) * 255))
    assert trained.backbone.features[0][1].training
    assert not torch.equal(trained.backbone.features[0][1].running_mean, before)


def test_a_mobilenetv2_state_dict_loads_into_the_backbone_by_name():
    torch.manual_seed(3)
    source = MobileNetV2(out_strides=MOBILENETV2_STRIDES)
    model = DMTrack(mobile_config())
    model.backbone.load_state_dict(source.state_dict())  # strict: every key and shape
    key = "features.18.0.weight"
    assert torch.equal(model.backbone.state_dict()[key], source.state_dict()[key])


def test_build_loads_the_pretrained_backbone(monkeypatch):
    torch.manual_seed(5)
    imagenet = MobileNetV2(out_strides=MOBILENETV2_STRIDES)
    calls = []

    def fake_load(name, **kwargs):
        calls.append((name, kwargs))
        return imagenet

    monkeypatch.setattr(method, "load_pretrained", fake_load)
    from longtrack.train import config_from_dict

    cfg = config_from_dict({
        "method": "dmtrack", "model": {**mobile_config(pretrained_backbone=True).to_dict()},
        "data": {"sources": [{"name": "synthetic", "preset": "mini", "frame_size": [128, 96], "num_sequences": 2,
                              "cache": 2}],
                 "kind": "multi_instance", "samples_per_epoch": 4, "max_instances": 2,
                 "templates": [{"mode": "full", "size": [128, 96]}], "search": {"mode": "full", "size": [128, 96]}},
        "train": {"steps": 1, "batch_size": 2, "tensorboard": False}})
    setup = method.build(cfg, torch.device("cpu"))
    assert calls == [("mobilenetv2", {"out_strides": MOBILENETV2_STRIDES})]
    for name, tensor in imagenet.state_dict().items():
        assert torch.equal(setup.model.backbone.state_dict()[name], tensor), name


@pytest.mark.skipif(cache_status("mobilenetv2") != "cached", reason="ImageNet MobileNetV2 not in the cache")
def test_the_cached_imagenet_file_fits_the_backbone():
    imagenet = load_pretrained("mobilenetv2", progress=False, out_strides=MOBILENETV2_STRIDES)
    model = DMTrack(mobile_config())
    model.backbone.load_state_dict(imagenet.state_dict())
    assert model.backbone.features[18][1].running_var.abs().sum() > 0


def test_training_with_the_contrast_reaches_every_parameter():
    config = mobile_config(regress_ranges=((-1, 16), (16, 32), (32, 1e8)))
    model = DMTrackForTraining(config, num_identities=10).train()
    boxes = torch.tensor([[[10.0, 12.0, 24.0, 20.0], [30.0, 20.0, 60.0, 50.0]], [[50.0, 40.0, 30.0, 30.0],
                                                                               [0.0, 0.0, 0.0, 0.0]]])
    ids = torch.tensor([[3, 7], [5, -1]])[:, None]
    batch = {"template_images": (torch.rand(2, 1, 3, 96, 128) * 255).to(torch.uint8),
             "search_images": (torch.rand(2, 1, 3, 96, 128) * 255).to(torch.uint8),
             "template_instance_boxes": boxes[:, None], "search_instance_boxes": (boxes + 2.0)[:, None],
             "template_instance_ids": ids, "search_instance_ids": ids}
    out = model(batch)
    assert out["reid_query_vectors"].shape == (3, 8) and out["reid_search_vectors"].shape == (3, 8)
    losses = criterion_for(config)(out, batch)
    assert set(losses) >= {"loss_reid_class", "loss_reid_contrast"}
    losses["loss"].backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []


def test_weights_of_a_mobile_dmtrack_track_as_the_network_computes(tmp_path):
    cfg = mobile_config(pretrained_backbone=True)  # the tracker never fetches: the file holds the network
    torch.manual_seed(0)
    model = DMTrack(cfg.replace(pretrained_backbone=False))
    tracker, pred = tracker_from_weights(tmp_path, "dmtrack", model, cfg, (96, 128), (40, 30, 30, 24))
    assert tracker.config.backbone == "mobilenetv2"
    assert len(pred.box) == 4 and np.isfinite(pred.box).all()


# -- validation figures ---------------------------------------------------------------------------

def test_separation_figures_on_hand_made_candidates():
    target = np.array([100.0, 100.0, 50.0, 50.0])
    pairs = [
        # top-1 on the target; a far look-alike less similar: the target wins.
        PairCandidates(np.array([[100, 100, 50, 50], [300, 100, 50, 50]], float), np.array([0.9, 0.5]), target),
        # top-1 on the look-alike, which is more similar: the target (2nd) loses, re-id picks wrong.
        PairCandidates(np.array([[300, 100, 50, 50], [102, 101, 50, 50]], float), np.array([0.8, 0.6]), target),
        # the target never among the candidates; the other candidate's similarity still counts.
        PairCandidates(np.array([[0, 0, 20, 20]], float), np.array([0.1]), target),
        # no candidate at all.
        PairCandidates(np.zeros((0, 4)), np.zeros(0), target),
    ]
    figures = separation_figures(pairs)
    assert figures["real_top1_iou50"] == pytest.approx(0.25)
    assert figures["real_covered"] == pytest.approx(0.5)
    assert figures["reid_target_cos"] == pytest.approx((0.9 + 0.6) / 2)
    assert figures["reid_other_cos"] == pytest.approx((0.5 + 0.8 + 0.1) / 3)
    assert figures["reid_target_wins"] == pytest.approx(0.5)
    assert figures["reid_pick_iou50"] == pytest.approx(0.25)
    top1_second = pairs[1].boxes[0]
    assert figures["real_top1_iou"] == pytest.approx(1.0 / 4, abs=1e-9) and top1_second[0] == 300
    # Without a re-id branch only the detector figures remain.
    plain = separation_figures([dataclasses.replace(p, similarity=None) for p in pairs])
    assert set(plain) == {"real_top1_iou50", "real_top1_iou", "real_covered"}


def _write_lasot(root, name: str, frames: list[np.ndarray], boxes: np.ndarray) -> None:
    folder = root / name.rsplit("-", 1)[0] / name
    (folder / "img").mkdir(parents=True)
    for i, frame in enumerate(frames, start=1):
        cv2.imwrite(str(folder / "img" / f"{i:08d}.jpg"), frame[..., ::-1])
    (folder / "groundtruth.txt").write_text("".join(",".join(f"{v:g}" for v in b) + "\n" for b in boxes))
    zeros = ",".join("0" for _ in boxes) + "\n"
    (folder / "full_occlusion.txt").write_text(zeros)
    (folder / "out_of_view.txt").write_text(zeros)


def test_the_evaluator_runs_on_a_tiny_validation_set(tmp_path):
    from longtrack.train.config import ValidationConfig
    from longtrack.train.validation import validation_pairs

    rng = np.random.default_rng(0)
    boxes = np.array([[30.0, 20.0, 40.0, 30.0], [34.0, 22.0, 40.0, 30.0], [38.0, 26.0, 40.0, 30.0]])
    for name in ("car-1", "bird-2"):
        frames = [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in boxes]
        _write_lasot(tmp_path, name, frames, boxes)
    pairs = validation_pairs(ValidationConfig(dataset="lasot", root=str(tmp_path), pairs=4), seed=0)
    assert len(pairs) == 4 and all(isinstance(p, ValidationPair) for p in pairs)
    torch.manual_seed(0)
    model = DMTrack(mobile_config()).eval()
    figures = reid_pair_evaluator(pairs)(model)
    assert {"real_top1_iou50", "real_top1_iou", "real_covered"} <= set(figures)
    assert all(0.0 <= figures[k] <= 1.0 for k in ("real_top1_iou50", "real_top1_iou", "real_covered"))
    if "reid_other_cos" in figures:
        assert -1.0 <= figures["reid_other_cos"] <= 1.0
    assert "reid_pick_iou50" in figures  # the network has a re-id branch


def test_a_candidate_on_the_query_box_of_the_same_frame_has_similarity_one(monkeypatch):
    """Query and search the same frame (at half scale): a candidate on the query box is read at the
    template's own point, so its cosine is 1 and it beats the candidates elsewhere."""
    from longtrack.train.methods import dmtrack_validation

    box = np.array([64.0, 48.0, 80.0, 64.0])  # xywh frame pixels
    others = [[0.0, 0.0, 40.0, 40.0], [180.0, 120.0, 250.0, 190.0]]
    candidates_xyxy = torch.tensor([others[0], [64.0, 48.0, 144.0, 112.0], others[1]])

    def fake_decode(*args, **kwargs):
        return candidates_xyxy, torch.tensor([0.9, 0.5, 0.4]), torch.ones(3, dtype=torch.long)

    monkeypatch.setattr(dmtrack_validation, "decode_detections", fake_decode)
    torch.manual_seed(1)
    model = DMTrack(mobile_config()).eval()
    frame = np.random.default_rng(1).integers(0, 255, (192, 256, 3), dtype=np.uint8)  # scale 0.5
    pair = ValidationPair("x", frame, box, frame, box)
    with torch.no_grad():
        candidates = dmtrack_validation.pair_candidates(model, pair)
    np.testing.assert_allclose(candidates.boxes[1], box)
    assert candidates.similarity[1] == pytest.approx(1.0, abs=1e-5)
    assert candidates.similarity[[0, 2]].max() < 0.999
    figures = separation_figures([candidates])
    assert figures["real_top1_iou50"] == 0.0 and figures["reid_target_wins"] == 1.0
    assert figures["reid_pick_iou50"] == 1.0


def test_a_run_with_data_validation_logs_the_real_pair_figures(tmp_path):
    import json

    from longtrack.train import config_from_dict, train

    rng = np.random.default_rng(2)
    boxes = np.array([[30.0, 20.0, 40.0, 30.0], [36.0, 24.0, 40.0, 30.0]])
    _write_lasot(tmp_path / "val", "car-1", [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in boxes],
                 boxes)
    cfg = config_from_dict({
        "method": "dmtrack", "model": mobile_config().to_dict(),
        "data": {"sources": [{"name": "synthetic", "preset": "mini", "frame_size": [128, 96], "num_sequences": 2,
                              "cache": 2}],
                 "kind": "multi_instance", "samples_per_epoch": 8, "max_instances": 3,
                 "templates": [{"mode": "full", "size": [128, 96]}], "search": {"mode": "full", "size": [128, 96]},
                 "validation": {"dataset": "lasot", "root": str(tmp_path / "val"), "pairs": 2}},
        "optim": {"name": "adamw", "lr": 1e-3},
        "train": {"steps": 2, "batch_size": 2, "log_every": 1, "ckpt_every": 2, "tensorboard": False,
                  "freeze": [{"prefix": "backbone", "until_step": 1}]}})
    out = train(cfg, tmp_path / "run", device="cpu")
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    evals = [r for r in records if "eval/real_top1_iou50" in r]
    assert len(evals) == 1 and evals[0]["step"] == 2 and "eval/reid_pick_iou50" in evals[0]
    assert all("loss_reid_contrast" in r for r in records if "loss" in r)
    tracker = longtrack.create("dmtrack", weights=str(out / "weights.pt"))
    assert tracker.config.backbone == "mobilenetv2"

"""GlobalTrack on a mobile ImageNet backbone (the small real-video configuration)."""
import dataclasses

import pytest
import torch

from longtrack.models.globaltrack import GlobalTrack, GlobalTrackConfig
from shipped_weights import tracker_from_weights


def _config(**changes) -> GlobalTrackConfig:
    return dataclasses.replace(GlobalTrackConfig.small(), backbone="mobilenetv2", norm_eval=True,
                               fpn_channels=32, fc_channels=64, **changes)


def test_mobilenetv2_feeds_the_fpn_with_c2_to_c5():
    model = GlobalTrack(_config()).eval()
    feats = model.extract_features(torch.randn(1, 3, 192, 256))
    assert [tuple(f.shape[-2:]) for f in feats] == [(48, 64), (24, 32), (12, 16), (6, 8), (3, 4)]
    assert model.backbone.out_channels == [24, 32, 96, 1280]


def test_norm_eval_keeps_the_imagenet_statistics_in_training_mode():
    model = GlobalTrack(_config()).train()
    bn = model.backbone.features[0][1]
    before = bn.running_mean.clone()
    model.extract_features(torch.randn(2, 3, 64, 64))
    assert not bn.training and torch.equal(bn.running_mean, before)
    assert model.neck.training  # the rest trains


def test_pretrained_backbone_needs_a_mobile_backbone():
    with pytest.raises(ValueError, match="needs a mobile backbone"):
        dataclasses.replace(GlobalTrackConfig.small(), pretrained_backbone=True)


def test_weights_of_a_mobile_globaltrack_track_as_the_network_computes(tmp_path):
    cfg = _config(pretrained_backbone=True)  # the tracker never fetches: the file holds the network
    torch.manual_seed(0)
    model = GlobalTrack(dataclasses.replace(cfg, pretrained_backbone=False))
    tracker, pred = tracker_from_weights(tmp_path, "globaltrack", model, cfg, (240, 320), (100, 80, 40, 30))
    assert tracker.config.backbone == "mobilenetv2"
    assert len(pred.box) == 4 and 0.0 <= pred.score <= 1.0

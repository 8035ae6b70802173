"""GlobalTrack through the training engine: multi-instance pairs -> cross-query loss -> weights the
tracker loads; and the method's checks of the data section."""
import json

import numpy as np
import pytest
import torch

from longtrack.errors import LongtrackError
from longtrack.train import config_from_dict, train
from longtrack.ops import box_xywh_to_inclusive_xyxy
from longtrack.train.methods.globaltrack import unpadded_shapes
from longtrack.trackers.globaltrack import GlobalTrackTracker


def tiny_config(**data_changes) -> dict:
    data = {"sources": [{"name": "synthetic", "preset": "mini", "frame_size": [128, 96], "num_sequences": 2,
                         "cache": 2}],
            "kind": "multi_instance", "samples_per_epoch": 8, "max_instances": 3,
            "templates": [{"mode": "full", "size": [128, 96], "pad": 0.0}],
            "search": {"mode": "full", "size": [128, 96], "pad": 0.0}, "flip_prob": 0.5}
    data.update(data_changes)
    return {"method": "globaltrack",
            "model": {"base_channels": 4, "fpn_channels": 8, "fc_channels": 16, "frozen_stages": -1,
                      "norm_eval": False, "max_size": [128, 96],
                      "train_rpn": {"nms_pre": 200, "nms_post": 200, "max_num": 200},
                      "rcnn_sampling": {"num": 32, "pos_fraction": 0.25, "pos_iou": 0.5, "neg_iou": 0.5,
                                        "min_pos_iou": 0.5, "add_gt_as_proposals": True}},
            "data": data, "optim": {"name": "adamw", "lr": 1e-3},
            "train": {"steps": 2, "batch_size": 2, "log_every": 1, "ckpt_every": 2, "tensorboard": False}}


def test_box_and_shape_helpers():
    boxes = torch.tensor([[10.0, 20.0, 30.0, 15.0]])
    assert box_xywh_to_inclusive_xyxy(boxes).tolist() == [[10.0, 20.0, 39.0, 34.0]]
    masks = torch.ones(1, 8, 10, dtype=torch.bool)
    masks[0, :6, :9] = False
    assert unpadded_shapes(masks).tolist() == [[6, 9]]


def test_two_training_steps_give_weights_the_tracker_loads(tmp_path):
    torch.set_num_threads(1)
    out = train(config_from_dict(tiny_config()), tmp_path / "run", device="cpu")
    records = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "loss" in r] == [1, 2]
    assert all(np.isfinite(r["loss"]) and r["num_queries"] >= 2 for r in records if "loss" in r)
    tracker = GlobalTrackTracker(weights=str(out / "weights.pt"))
    frame = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    tracker.initialize(frame, (30, 20, 25, 30))
    assert np.isfinite(tracker.track(frame).box).all()


@pytest.mark.parametrize("changes, message", [
    ({"kind": "pair"}, "multi_instance"),
    ({"search": {"mode": "crop", "size": 128}}, "mode 'full'"),
    ({"templates": [{"mode": "full", "size": [120, 96]}], "search": {"mode": "full", "size": [120, 96]}},
     "multiple of"),
])
def test_the_data_section_must_describe_whole_frame_pairs(tmp_path, changes, message):
    with pytest.raises(LongtrackError, match=message):
        train(config_from_dict(tiny_config(**changes)), tmp_path / "bad", device="cpu")

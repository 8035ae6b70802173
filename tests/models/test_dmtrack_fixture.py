"""Our DMTrack is the authors' function: shared/fixtures/official/dmtrack/case1 (their GlobalSearch
detector at DLA widths / 4, random weights), loaded through our converter, reproduces every stored
intermediate and the detections. Criterion (README): max |ours - ref| / max |ref| < 1e-4; box lists
as sets to 1e-3 px."""
import pytest
import torch

from longtrack.convert import get_converter
from longtrack.convert.dmtrack import UNUSED_PREFIXES, convert
from longtrack.errors import LongtrackError
from longtrack.models.dmtrack import DMTrack, DMTrackConfig
from longtrack.models.dmtrack.head import decode_detections

LEVELS = (3, 4, 5)


@pytest.fixture(scope="module")
def case(shared_dir):
    folder = shared_dir / "fixtures" / "official" / "dmtrack" / "case1"
    state, inputs, outputs = (torch.load(folder / f"{n}.pt", weights_only=True)
                              for n in ("state_dict", "inputs", "outputs"))
    config, ours = convert(state, {})
    model = DMTrack(DMTrackConfig.from_dict(config)).eval()
    model.load_state_dict(ours, strict=True)
    return state, inputs, outputs, config, model


@pytest.fixture(scope="module")
def run(case):
    _, inputs, _, _, model = case
    torch.set_num_threads(1)
    with torch.no_grad():
        query_feats = model.features(inputs["img_z"])
        search_feats = model.features(inputs["img_x"])
        rois = torch.cat([torch.zeros(1, 1), inputs["gt_bboxes_z"]], dim=1)
        query = model.query(query_feats["pyramid"], rois)
        levels = model.detect(search_feats["pyramid"], query["conditions"], keep_intermediates=True)
        maps = model.controller.maps(query["template_feats"][0])
    return query_feats, search_feats, query, levels, maps


def relative_error(ours, ref):
    assert ours.shape == ref.shape
    return ((ours - ref).abs().max() / ref.abs().max()).item()


def test_converter_maps_every_key_and_infers_the_config(case):
    state, _, _, config, model = case
    assert config["dla_channels"] == [4, 8, 16, 32, 64, 128]  # config.json dla_channels
    assert (config["head_channels"], config["mid_channels"], config["num_classes"]) == (64, 32, 2)
    assert config["reid_dim"] == 0 and config["correlation"] == "dynamic"
    unused = [k for k in state if k.startswith(UNUSED_PREFIXES)]
    assert unused and len(model.state_dict()) == len(state) - len(unused)
    assert get_converter("dmtrack") is convert


def test_pyramids_template_and_dynamic_weights(case, run):
    _, _, outputs, _, _ = case
    query_feats, search_feats, query, _, maps = run
    errors = {}
    for i, level in enumerate(LEVELS):
        errors[f"fpn_z_p{level}"] = relative_error(query_feats["pyramid"][i], outputs[f"fpn_z_p{level}"])
        errors[f"fpn_x_p{level}"] = relative_error(search_feats["pyramid"][i], outputs[f"fpn_x_p{level}"])
        errors[f"template_feat_p{level}"] = relative_error(query["template_feats"][i], outputs[f"template_feat_p{level}"])
        for name in ("cls1", "cls2", "reg1", "reg2"):
            ref = outputs[f"dyn_{name}_p{level}"]  # [C_out, C_in, 1, 1]
            errors[f"dyn_{name}_p{level}"] = relative_error(query["conditions"][i][name][0], ref[:, :, 0, 0])
    errors["template_roi_feat"] = relative_error(query["roi_feat"], outputs["template_roi_feat"])
    errors["controller_cls1_map_p3"] = relative_error(maps["cls1"], outputs["controller_cls1_map_p3"])
    print(f"\nmax relative error {max(errors.values()):.1e} over {len(errors)} tensors")
    assert max(errors.values()) < 1e-4, errors


def test_head_maps_and_modulated_features(case, run):
    _, _, outputs, _, _ = case
    levels = run[3]
    errors = {}
    for i, level in enumerate(LEVELS):
        for name in ("premod_cls", "premod_reg", "mod_cls", "mod_reg", "cls_score", "bbox_pred", "centerness"):
            errors[f"{name}_p{level}"] = relative_error(levels[i][name], outputs[f"{name}_p{level}"])
    print(f"\nmax relative error {max(errors.values()):.1e} over {len(errors)} tensors")
    assert max(errors.values()) < 1e-4, errors


def test_detections_and_tracker_top1(case, run):
    _, inputs, outputs, _, model = case
    levels = run[3]
    image_hw = tuple(inputs["img_shape_x"][:2].tolist())
    boxes, scores, labels = decode_detections(
        [lv["cls_score"][0] for lv in levels], [lv["bbox_pred"][0] for lv in levels],
        [lv["centerness"][0] for lv in levels], model.config.strides, image_hw, float(inputs["scale_factor_x"]),
        nms_pre=model.config.nms_pre, nms_iou=model.config.nms_iou, max_per_image=model.config.max_per_image)
    ours = torch.cat([boxes, scores[:, None]], dim=1)
    # Near-equal scores may swap places: compare as sets (each reference row has a partner).
    for mine, ref in ((ours, outputs["det_bboxes_all_classes"]),
                      (ours[labels == 1], outputs["det_bboxes"])):
        assert mine.shape == ref.shape
        distance = torch.cdist(ref.double(), mine.double(), p=float("inf"))
        assert distance.min(dim=1).values.max() < 1e-3
    assert sorted(labels.tolist()) == sorted(outputs["det_labels_all_classes"].tolist())
    target = ours[labels == 1]
    top1 = target[target[:, 4].argmax(), :4]
    torch.testing.assert_close(top1, outputs["tracker_top1_x1y1x2y2"], rtol=0, atol=1e-3)
    # The tracker's shortcut (class 1 only, scores >= min_score before NMS) keeps exactly their rows.
    fast_boxes, fast_scores, fast_labels = decode_detections(
        [lv["cls_score"][0] for lv in levels], [lv["bbox_pred"][0] for lv in levels],
        [lv["centerness"][0] for lv in levels], model.config.strides, image_hw, float(inputs["scale_factor_x"]),
        classes=(1,), min_score=0.6)
    expected = outputs["det_bboxes"][outputs["det_bboxes"][:, 4] >= 0.6]
    assert len(expected) > 5 and (fast_labels == 1).all()
    fast = torch.cat([fast_boxes, fast_scores[:, None]], dim=1)
    assert fast.shape == expected.shape
    assert torch.cdist(expected.double(), fast.double(), p=float("inf")).min(dim=1).values.max() < 1e-3


def test_convert_command_gives_a_tracker_that_detects_like_the_authors(case, shared_dir, tmp_path):
    """``longtrack convert`` on their file (an mmdet checkpoint: ``{"meta", "state_dict"}``), then
    our tracker on the fixture's gallery image with ``association="top1"`` = their DMTrack.update."""
    from longtrack.cli import main
    from longtrack.trackers.dmtrack import DMTrackTracker

    state, inputs, outputs, _, _ = case
    official = tmp_path / "dmtrackGS.pth"
    torch.save({"meta": {"epoch": 48}, "state_dict": state}, official)
    assert main(["convert", "--method", "dmtrack", "--official", str(official), "--out", str(tmp_path / "gs.pt")]) == 0
    tracker = DMTrackTracker(weights=str(tmp_path / "gs.pt"), association="top1", min_score=0.0)
    assert tracker.config.reid_dim == 0 and tracker.config.dla_channels == (4, 8, 16, 32, 64, 128)
    rois = torch.cat([torch.zeros(1, 1), inputs["gt_bboxes_z"]], dim=1)
    with torch.no_grad():
        feats = tracker.model.features(inputs["img_z"])
        conditions = tracker.model.query(feats["pyramid"], rois)["conditions"]
        levels = tracker.model.detect(tracker.model.features(inputs["img_x"])["pyramid"], conditions)
    assert relative_error(levels[0]["cls_score"], outputs["cls_score_p3"]) < 1e-4


def test_converter_rejects_foreign_and_incomplete_checkpoints(case):
    state = case[0]
    with pytest.raises(LongtrackError, match="no counterpart"):
        convert({**state, "roi_head.fc.weight": torch.zeros(1)}, {})
    incomplete = {k: v for k, v in state.items() if not k.startswith("bbox_head.scales.")}
    with pytest.raises(LongtrackError, match="missing"):
        convert(incomplete, {})
    with pytest.raises(LongtrackError, match="not a DMTrack"):
        convert({"backbone.conv1.weight": torch.zeros(1)}, {})
    with pytest.raises(LongtrackError, match="re-id"):
        convert(state, {"reid_dim": 128})

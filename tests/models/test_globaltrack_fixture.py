"""The authors' GlobalTrack (QG_RCNN, mmdetection v1) and ours compute the same function.

shared/fixtures/official/globaltrack/case1 holds their code's state dict, inputs and outputs at
ResNet-50 base width 8 / FPN 32 / FCs 64. Their state dict goes through our converter into our
model; dense maps must agree to 1e-4 relative (max |ours - ref| / max |ref|), box lists as sets
(rows matched within 1e-3 px: boxes with near-equal scores may come out in another order).
"""
import pytest
import torch

from longtrack.checkpoint import save_weights
from longtrack.convert.globaltrack import convert
from longtrack.models.globaltrack import GlobalTrack, GlobalTrackConfig, PreparedImage
from longtrack.trackers.globaltrack import GlobalTrackTracker

TOL = 1e-4
BOX_TOL = 1e-3  # pixels


def relative_error(ours, ref) -> float:
    return ((ours.double() - ref.double()).abs().max() / ref.double().abs().max()).item()


def match_rows(ours: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """For each of our boxes the index of the nearest reference box (checked one-to-one, close)."""
    dist = torch.cdist(ours[:, :4].double(), ref[:, :4].double())
    nearest = dist.argmin(1)
    assert dist.min(1).values.max() < BOX_TOL
    assert len(set(nearest.tolist())) == len(nearest) == len(ref), "not a one-to-one match"
    return nearest


@pytest.fixture(scope="module")
def case(shared_dir):
    folder = shared_dir / "fixtures" / "official" / "globaltrack" / "case1"
    state, inputs, outputs = (torch.load(folder / f"{n}.pt", weights_only=True)
                              for n in ("state_dict", "inputs", "outputs"))
    config, converted = convert(state, {})
    model = GlobalTrack(GlobalTrackConfig.from_dict(config))
    model.load_state_dict(converted, strict=True)
    model.eval()
    with torch.no_grad():
        feats_z = model.extract_features(inputs["img_z"])
        feats_x = model.extract_features(inputs["img_x"])
        rois = torch.cat([torch.zeros(1, 1), inputs["gt_bboxes_z"]], dim=1)
        query = model.encode_query(feats_z, rois)
        modulated, _, _ = model.rpn(feats_x, query)
        img_shape = tuple(inputs["img_shape_x"][:2].tolist())
        detected = model.detect(feats_x, query, img_shape, float(inputs["scale_factor_x"]))
    return dict(state=state, config=config, model=model, inputs=inputs, outputs=outputs, feats_x=feats_x,
                feats_z=feats_z, query=query, modulated=modulated, detected=detected, img_shape=img_shape)


def test_converter_maps_every_key_and_infers_the_fixture_config(case):
    assert set(case["state"]) == set(case["model"].state_dict())
    assert GlobalTrackConfig.from_dict(case["config"]) == GlobalTrackConfig.fixture()


def test_dense_maps_match(case):
    out = case["outputs"]
    errors = {}
    for level in range(5):
        errors[f"fpn_x_p{level + 2}"] = relative_error(case["feats_x"][level], out[f"fpn_x_p{level + 2}"])
        errors[f"rpn_modulated_p{level + 2}"] = relative_error(case["modulated"][level],
                                                               out[f"rpn_modulated_p{level + 2}"])
        errors[f"rpn_cls_score_p{level + 2}"] = relative_error(case["detected"]["rpn_cls"][level],
                                                               out[f"rpn_cls_score_p{level + 2}"])
        errors[f"rpn_bbox_pred_p{level + 2}"] = relative_error(case["detected"]["rpn_reg"][level],
                                                               out[f"rpn_bbox_pred_p{level + 2}"])
    for level in range(4):
        errors[f"fpn_z_p{level + 2}"] = relative_error(case["feats_z"][level], out[f"fpn_z_p{level + 2}"])
    errors["rpn_query_roi_feat"] = relative_error(case["query"].rpn_roi, out["rpn_query_roi_feat"])
    errors["rcnn_query_roi_feat"] = relative_error(case["query"].rcnn_roi, out["rcnn_query_roi_feat"])
    print(f"\nrelative error of the dense maps: max {max(errors.values()):.1e}")
    assert max(errors.values()) < TOL, errors


def test_proposals_and_rcnn_outputs_match(case):
    out, det = case["outputs"], case["detected"]
    proposals = det["proposals"]
    order = match_rows(proposals, out["proposals"])
    assert (proposals[:, 4] - out["proposals"][order, 4]).abs().max() < 1e-5
    assert torch.all(proposals[1:, 4] <= proposals[:-1, 4])  # sorted by score, as topk returns
    cls_error = relative_error(det["cls_score"], out["rcnn_cls_score"][order])
    reg_error = relative_error(det["bbox_pred"], out["rcnn_bbox_pred"][order])
    keep_order = torch.cat([det["boxes"], det["scores"][:, None]], dim=1)
    box_error = (keep_order - out["det_keep_order"][order]).abs().max().item()
    print(f"\nRCNN logits {cls_error:.1e}, deltas {reg_error:.1e}, per-proposal boxes {box_error:.1e} px")
    assert cls_error < TOL and reg_error < TOL and box_error < BOX_TOL


def test_detections_after_nms_match_as_a_set(case):
    ours, ref = case["detected"]["detections"], case["outputs"]["det_bboxes"]
    assert ours.shape == ref.shape == (588, 5)
    order = match_rows(ours, ref)
    assert (ours[:, 4] - ref[order, 4]).abs().max() < 1e-5


def test_tracker_top1_matches_the_authors_update(case, tmp_path):
    """Converted weights saved as a longtrack weights file, loaded by the tracker: its search
    (argmax, no NMS) gives the authors' GlobalTrack.update box."""
    path = tmp_path / "globaltrack-fixture.pt"
    save_weights(path, method="globaltrack", config={"model": case["config"]},
                 state_dict=case["model"].state_dict())
    tracker = GlobalTrackTracker(weights=str(path))
    inputs = case["inputs"]
    image = PreparedImage(inputs["img_x"], case["img_shape"], float(inputs["scale_factor_x"]))
    corners, score = tracker.search(image, case["query"])
    ref = case["outputs"]["tracker_top1_x1y1x2y2"]
    assert relative_error(torch.as_tensor(corners), ref) < TOL
    assert score == pytest.approx(case["outputs"]["det_bboxes"][:, 4].max().item(), abs=1e-5)

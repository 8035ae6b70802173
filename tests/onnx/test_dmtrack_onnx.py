"""DMTrack under onnxruntime against PyTorch, for both backbones: the shipped weights
(dmtrack-real.pt, MobileNetV2), the synthetic-only dmtrack-synth.pt (DLA-34 with deformable
IDA-up) and a small MobileNetV2 configuration at random initialisation (built as tests/models/test_dmtrack_mobile.py builds it).

* Every exported stage: |onnxruntime - torch| <= 1e-4 x max(1, max |torch output|), and <= 1e-3 x
  max |torch output| (the random MobileNetV2's maps are small, down to 1e-8, where the first bound
  alone would say nothing), on a real frame at a size other than the one exported with (the image
  and query axes are dynamic: two queries are encoded and searched).
* The tracker: boxes within 0.5 px and scores within 1e-4 on the first 20 frames of real-val
  ``bird-3``; the random network's tracker takes every candidate (no score floor, any re-id
  similarity recovers) so that the association runs on every frame; one export serves both the
  cache path and ``onnx_dir``.

About 15 s on one thread. Repeat: ``OMP_NUM_THREADS=1 python -m pytest -q tests/onnx``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

import longtrack  # noqa: E402
from onnx_parity import close as parity_close, export_command_manifest, only_export, read_clip  # noqa: E402
from longtrack.registry import get_tracker_spec  # noqa: E402
from longtrack.checkpoint import save_weights  # noqa: E402
from longtrack.errors import LongtrackError  # noqa: E402
from longtrack.export import export_network, onnx_network  # noqa: E402
from longtrack.models.dmtrack import DMTrack, DMTrackConfig, preprocess_image  # noqa: E402

FRAMES = 20
SEQUENCE = "bird/bird-3"
TOLERANCE = 1e-4
RELATIVE = 1e-3
# The random network's scores all sit near sigmoid(-4.6) x 0.5: take every candidate and let any
# similarity recover the target, so that association and re-id decide every frame.
OPEN_ASSOCIATION = {"min_score": 0.0, "recover_score": 0.0, "reid_threshold": -1.0, "presence_threshold": 0.0}


def mobile_config(**changes) -> DMTrackConfig:
    """tests/models/test_dmtrack_mobile.py's ``mobile_config``: ``DMTrackConfig.real()`` with thin heads."""
    thin = {"pretrained_backbone": False, "head_channels": 16, "mid_channels": 8, "gn_groups": 8, "reid_dim": 8,
            "reid_channels": 8, "input_size": (128, 96)}
    return DMTrackConfig.real().replace(**{**thin, **changes})


@dataclass
class Case:
    weights: str | None  # None: the shipped weights
    options: dict
    reference: object  # the PyTorch tracker
    ours: object  # the onnxruntime tracker, exported into an empty cache on first use
    cache: Path


@pytest.fixture(scope="module")
def clip(shared_dir):
    return read_clip(shared_dir, SEQUENCE, FRAMES + 1)


@pytest.fixture(scope="module", params=["shipped", "dla34-synth", "mobilenetv2"])
def case(request, tmp_path_factory) -> Case:
    weights, options = None, {}
    if request.param == "dla34-synth":  # the synthetic-only weights: DLA-34 with deformable IDA-up
        weights = get_tracker_spec("dmtrack").weights_path().replace("-real.pt", "-synth.pt")
    if request.param == "mobilenetv2":
        torch.manual_seed(0)
        weights = str(save_weights(tmp_path_factory.mktemp("weights") / "mobile.pt", method="dmtrack",
                                   config={"model": mobile_config().to_dict()},
                                   state_dict=DMTrack(mobile_config()).state_dict()))
        options = OPEN_ASSOCIATION
    cache = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        ours = longtrack.create("dmtrack", weights=weights, runtime="onnx", **options)
    reference = longtrack.create("dmtrack", weights=weights, **options)
    return Case(weights, options, reference, ours, cache / "longtrack" / "onnx")


def close(got: torch.Tensor, want: torch.Tensor) -> bool:
    return parity_close(got, want, TOLERANCE, RELATIVE)


def test_every_stage_matches_torch(case, clip):
    torch_model, onnx_model = case.reference.model, case.ours.model
    frames, first = clip
    config = torch_model.config
    # The 480x267 frame becomes a padded input (256x160 for DLA-34, the fitted 384x288 or 128x96 for MobileNetV2): not the 64x96 exported with.
    image, scale, _ = preprocess_image(frames[5], config)
    assert tuple(image.shape[-2:]) != (2 * config.size_divisor, 3 * config.size_divisor)
    x, y, w, h = first
    rois = torch.tensor([[0.0, x, y, x + w, y + h], [0.0, 40.0, 30.0, 200.0, 180.0]]) * torch.tensor(
        [1.0, scale, scale, scale, scale])
    with torch.inference_mode():
        normalised = torch_model.normalise(image)
        assert torch.equal(onnx_model.normalise(image), normalised)
        feats, got_feats = torch_model.features(normalised), onnx_model.features(normalised)
        assert len(got_feats["pyramid"]) == len(feats["pyramid"]) == 3
        assert all(close(g, w) for g, w in zip(got_feats["pyramid"], feats["pyramid"]))
        assert close(got_feats["low"], feats["low"])

        query, got_query = torch_model.query(feats["pyramid"], rois), onnx_model.query(feats["pyramid"], rois)
        assert close(got_query["roi_feat"], query["roi_feat"])
        assert all(close(g, w) for g, w in zip(got_query["template_feats"], query["template_feats"]))
        for got_level, level in zip(got_query["conditions"], query["conditions"], strict=True):
            assert got_level.keys() == level.keys() and all(close(got_level[k], level[k]) for k in level)

        levels = torch_model.detect(feats["pyramid"], query["conditions"])
        got_levels = onnx_model.detect(feats["pyramid"], query["conditions"])
        for got_level, level in zip(got_levels, levels, strict=True):
            assert got_level.keys() == level.keys() and all(close(got_level[k], level[k]) for k in level)
            assert level["cls_score"].shape[0] == 2  # both queries

        assert close(onnx_model.embed(feats), torch_model.embed(feats))


def test_boxes_match_torch_over_a_real_clip(case, clip):
    frames, first = clip
    case.reference.initialize(frames[0], first)
    case.ours.initialize(frames[0], first)
    box_error, score_error, found = 0.0, 0.0, 0
    for frame in frames[1:]:
        want, got = case.reference.track(frame), case.ours.track(frame)
        box_error = max(box_error, float(np.abs(np.subtract(got.box, want.box)).max()))
        score_error = max(score_error, abs(got.score - want.score))
        assert got.present == want.present
        found += want.score > 0
    assert found >= FRAMES // 4  # the comparison covers frames where a candidate was chosen
    assert box_error <= 0.5 and score_error <= TOLERANCE


def test_export_command_and_onnx_dir(case, tmp_path, capsys):
    manifest = export_command_manifest("dmtrack", case.weights, tmp_path / "out", only_export(case.cache),
                                       case.reference.model, capsys, "features")
    assert set(manifest["graphs"]) == {"features", "query", "detect", "embed"}
    tracker = longtrack.create("dmtrack", weights=case.weights, runtime="onnx", onnx_dir=str(tmp_path / "out"),
                               **case.options)
    assert sorted(tracker.model.graphs) == ["detect", "embed", "features", "query"]


def test_a_folder_of_other_weights_is_refused(case):
    cached = only_export(case.cache)
    retrained = copy.deepcopy(case.reference.model)
    with torch.no_grad():
        retrained.bbox_head.scales[0].scale.add_(1.0)  # one parameter differs
    with pytest.raises(LongtrackError, match="other weights"):
        onnx_network("dmtrack", retrained, cached)


def test_without_re_id_there_is_no_embed_stage(tmp_path):
    torch.manual_seed(1)
    model = DMTrack(mobile_config(reid_dim=0)).eval()
    export_network("dmtrack", model, tmp_path)
    network = onnx_network("dmtrack", model, tmp_path)
    assert sorted(network.graphs) == ["detect", "features", "query"]
    assert network.embed(network.features(torch.zeros(1, 3, 96, 128))) is None


def test_other_correlations_are_refused(tmp_path):
    with pytest.raises(LongtrackError, match="correlation 'dynamic'"):
        export_network("dmtrack", DMTrack(mobile_config(correlation="xcorr")), tmp_path)

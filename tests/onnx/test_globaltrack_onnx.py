"""GlobalTrack under onnxruntime against PyTorch, with the shipped weights (globaltrack-real.pt).

* Every exported stage: |onnxruntime - torch| <= 1e-4 x max(1, max |torch output|) (absolute,
  scaled to the output's magnitude; P2..P6 reach about 8), on a real frame at a size other than
  the one exported with (the image axes are dynamic).
* The tracker: boxes within 0.5 px and scores within 1e-4 on the first 30 frames of real-val
  ``bird-3``; one export serves both the cache path and ``onnx_dir``.

About 15 s on one thread. Repeat: ``OMP_NUM_THREADS=1 python -m pytest -q tests/onnx``.
"""
from __future__ import annotations


import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

import longtrack  # noqa: E402
from onnx_parity import close as parity_close, export_command_manifest, only_export, read_clip  # noqa: E402
from longtrack.boxes import xywh_to_inclusive_xyxy  # noqa: E402
from longtrack.errors import LongtrackError  # noqa: E402
from longtrack.models.globaltrack import prepare_image  # noqa: E402
from longtrack.registry import get_tracker_spec  # noqa: E402

FRAMES = 30
SEQUENCE = "bird/bird-3"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def clip(shared_dir):
    return read_clip(shared_dir, SEQUENCE, FRAMES)


@pytest.fixture(scope="module")
def trackers(tmp_path_factory):
    """(torch tracker, onnx tracker exported into an empty cache on first use, the cache root)."""
    cache = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        ours = longtrack.create("globaltrack", runtime="onnx")
    return longtrack.create("globaltrack"), ours, cache / "longtrack" / "onnx"


def close(got: torch.Tensor, want: torch.Tensor) -> bool:
    return parity_close(got, want, TOLERANCE)


def test_every_stage_matches_torch(trackers, clip):
    reference, ours, _ = trackers
    frames, first = clip
    torch_model, onnx_model = reference.model, ours.model
    # A 480x267 frame becomes a padded 384x224 input: not the 160x128 exported with.
    image = prepare_image(frames[5], torch_model.config)
    with torch.inference_mode():
        feats = torch_model.extract_features(image.tensor)
        got_feats = onnx_model.extract_features(image.tensor)
        assert all(close(g, w) for g, w in zip(got_feats, feats)) and len(got_feats) == len(feats)

        rois = torch.tensor([[0.0, *(xywh_to_inclusive_xyxy(first) * image.scale_factor)]], dtype=torch.float32)
        query = torch_model.encode_query(feats, rois)
        got_query = onnx_model.encode_query(feats, rois)
        assert all(close(g, w) for g, w in zip(got_query.rpn_kernels, query.rpn_kernels))
        assert close(got_query.rcnn_kernel, query.rcnn_kernel)

        _, cls, reg = torch_model.rpn(feats, query)
        _, got_cls, got_reg = onnx_model.rpn(feats, query)
        assert all(close(g, w) for g, w in zip(got_cls + got_reg, cls + reg))

        proposals = torch_model.propose(cls, reg, [image.img_shape], torch_model.config.test_rpn)[0]
        assert proposals.shape[0] > 1  # several RoIs: the RoI axis is dynamic too
        rois_x = torch.cat([proposals.new_zeros((len(proposals), 1)), proposals[:, :4]], dim=1)
        for got, want in zip(onnx_model.rcnn(feats, rois_x, query.rcnn_kernel),
                             torch_model.rcnn(feats, rois_x, query.rcnn_kernel)):
            assert close(got, want)


def test_boxes_match_torch_over_a_real_clip(trackers, clip):
    reference, ours, _ = trackers
    frames, first = clip
    reference.initialize(frames[0], first)
    ours.initialize(frames[0], first)
    box_error, score_error = 0.0, 0.0
    for frame in frames[1:]:
        want, got = reference.track(frame), ours.track(frame)
        box_error = max(box_error, float(np.abs(np.subtract(got.box, want.box)).max()))
        score_error = max(score_error, abs(got.score - want.score))
        assert got.present == want.present
    assert box_error <= 0.5 and score_error <= TOLERANCE


def test_export_command_and_onnx_dir(trackers, tmp_path, capsys):
    reference, _, cache = trackers
    manifest = export_command_manifest("globaltrack", None, tmp_path / "out", only_export(cache), reference.model,
                                       capsys, "features")
    assert set(manifest["graphs"]) == {"features", "query", "rpn", "rcnn"}
    tracker = longtrack.create("globaltrack", runtime="onnx", onnx_dir=str(tmp_path / "out"))
    assert sorted(tracker.model.graphs) == ["features", "query", "rcnn", "rpn"]


def test_a_folder_of_other_weights_is_refused(trackers):
    _, _, cache = trackers
    cached = only_export(cache)
    synth = get_tracker_spec("globaltrack").weights_path().replace("-real.pt", "-synth.pt")
    with pytest.raises(LongtrackError, match="other weights"):
        longtrack.create("globaltrack", weights=synth, runtime="onnx", onnx_dir=str(cached))

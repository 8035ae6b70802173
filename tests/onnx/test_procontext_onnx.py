"""ProContEXT under onnxruntime against PyTorch, for both patch embeddings: the shipped
procontext-real.pt (the MobileNetV2 hybrid stem), ``ProContEXTConfig.small()`` (the 16x16 patch
convolution) and ``ProContEXTConfig.real()`` (no ImageNet fetch) at seeded random
initialisation.

* The one exported stage on crops the tracker cuts from a real frame, two in a batch (the batch
  axis is dynamic): every map and the score within 1e-4 x max(1, max |torch output|) and
  1e-3 x max |torch output| (the random networks' score maps sit near 1e-2), and the search
  tokens every elimination block keeps and removes are the same sets as PyTorch's (the graph's
  TopK / GatherElements / ScatterElements against torch's sort / gather / scatter).
* The tracker: boxes within 0.5 px and scores within 1e-4 on the first 30 frames of real-val
  ``bird-3``; one export serves both the cache path and ``onnx_dir``.

About 20 s on one thread. Repeat: ``OMP_NUM_THREADS=1 python -m pytest -q tests/onnx``.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

import longtrack  # noqa: E402
from onnx_parity import close as parity_close, export_command_manifest, only_export, read_clip  # noqa: E402
from longtrack.checkpoint import save_weights  # noqa: E402
from longtrack.errors import LongtrackError  # noqa: E402
from longtrack.export import onnx_network  # noqa: E402
from longtrack.models.procontext import ProContEXT, ProContEXTConfig  # noqa: E402

FRAMES = 30
SEQUENCE = "bird/bird-3"
TOLERANCE = 1e-4
RELATIVE = 1e-3
MAPS = ("score_map", "size_map", "offset_map", "score")
CONFIGS = {
    "small": ProContEXTConfig.small(),
    "real-hybrid": dataclasses.replace(ProContEXTConfig.real(), pretrained_backbone=False),
}


@dataclass
class Case:
    weights: str | None  # None: the shipped weights
    reference: object  # the PyTorch tracker
    ours: object  # the onnxruntime tracker, exported into an empty cache on first use
    cache: Path


@pytest.fixture(scope="module")
def clip(shared_dir):
    return read_clip(shared_dir, SEQUENCE, FRAMES + 1)


@pytest.fixture(scope="module", params=["shipped", *CONFIGS])
def case(request, tmp_path_factory) -> Case:
    weights = None
    if request.param in CONFIGS:
        config = CONFIGS[request.param]
        torch.manual_seed(0)
        weights = str(save_weights(tmp_path_factory.mktemp("weights") / f"{request.param}.pt", method="procontext",
                                   config={"model": config.to_dict()}, state_dict=ProContEXT(config).state_dict()))
    cache = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        ours = longtrack.create("procontext", weights=weights, runtime="onnx")
    reference = longtrack.create("procontext", weights=weights)
    if request.param in CONFIGS:
        assert reference.config == CONFIGS[request.param]
    return Case(weights, reference, ours, cache / "longtrack" / "onnx")


def close(got: torch.Tensor, want: torch.Tensor) -> bool:
    return parity_close(got, want, TOLERANCE, RELATIVE)


def test_the_network_matches_torch(case, clip):
    tracker, onnx_model = case.reference, case.ours.model
    frames, first = clip
    templates = torch.stack(tracker._template_crops(frames[0], first) * 2, dim=1)
    searches = [tracker._normalise(tracker._crop(frame, first, tracker.config.search_factor,
                                                 tracker.config.search_size)[0]) for frame in (frames[5], frames[30])]
    templates, search = templates.expand(2, -1, -1, -1, -1), torch.cat(searches)
    with torch.inference_mode():
        want = tracker.model(templates, search)
        got = onnx_model(templates, search)
    assert all(close(got[k], want[k]) for k in MAPS)
    assert len(want["kept_search_indices"]) == 3  # the config's three elimination blocks
    for name in ("kept_search_indices", "removed_search_indices"):
        assert len(got[name]) == len(want[name])
        for got_index, index in zip(got[name], want[name]):
            assert torch.equal(got_index.sort(dim=1).values, index.sort(dim=1).values)


def test_boxes_match_torch_over_a_real_clip(case, clip):
    frames, first = clip
    case.reference.initialize(frames[0], first)
    case.ours.initialize(frames[0], first)
    box_error, score_error = 0.0, 0.0
    for frame in frames[1:]:
        want, got = case.reference.track(frame), case.ours.track(frame)
        box_error = max(box_error, float(np.abs(np.subtract(got.box, want.box)).max()))
        score_error = max(score_error, abs(got.score - want.score))
        assert got.present == want.present
    assert box_error <= 0.5 and score_error <= TOLERANCE


def test_export_command_and_onnx_dir(case, tmp_path, capsys):
    manifest = export_command_manifest("procontext", case.weights, tmp_path / "out", only_export(case.cache),
                                       case.reference.model, capsys, "network")
    assert list(manifest["graphs"]) == ["network"]
    tracker = longtrack.create("procontext", weights=case.weights, runtime="onnx", onnx_dir=str(tmp_path / "out"))
    assert sorted(tracker.model.graphs) == ["network"]


def test_a_folder_of_other_weights_is_refused(case):
    cached = only_export(case.cache)
    retrained = copy.deepcopy(case.reference.model)
    with torch.no_grad():
        retrained.head.score[-1].bias.add_(1.0)  # one parameter differs
    with pytest.raises(LongtrackError, match="other weights"):
        onnx_network("procontext", retrained, cached)


def test_another_keep_ratio_is_refused(case, clip):
    cached = only_export(case.cache)
    with pytest.raises(LongtrackError, match="keep_ratio needs runtime='torch'"):
        longtrack.create("procontext", weights=case.weights, runtime="onnx", onnx_dir=str(cached), keep_ratio=1.0)
    config = case.reference.config
    templates = torch.zeros(1, config.num_templates, 3, config.template_size, config.template_size)
    with pytest.raises(LongtrackError, match="config's keep ratios"):
        case.ours.model(templates, torch.zeros(1, 3, config.search_size, config.search_size), keep_ratio=0.5)

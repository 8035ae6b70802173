"""A run's ``weights.pt`` is tracker-ready: the inference state only, loaded with strict keys.

DMTrack trains an identity classifier and uncertainty weights, TANet two discriminators and a
schedule counter: ``checkpoint.pt`` (for ``--resume``) keeps them, ``weights.pt`` does not.
"""
import warnings

import torch

import longtrack
from longtrack.checkpoint import load_checkpoint, load_weights
from longtrack.models.dmtrack import DMTrackConfig
from longtrack.train import config_from_dict, train

SYNTH = {"name": "synthetic", "preset": "mini", "frame_size": [128, 96], "num_sequences": 2, "cache": 2}
SHORT = {"steps": 2, "batch_size": 2, "log_every": 1, "ckpt_every": 2, "tensorboard": False}


def _tracker(name: str, weights):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the OpenCV local tracker's notes
        return longtrack.create(name, weights=str(weights))


def test_a_dmtrack_run_writes_the_network_without_its_training_only_parts(tmp_path):
    torch.set_num_threads(1)
    model = DMTrackConfig.small().replace(head_channels=16, mid_channels=8, gn_groups=8, reid_dim=8,
                                          reid_channels=8)
    cfg = config_from_dict({
        "method": "dmtrack", "model": model.to_dict(),
        "data": {"sources": [SYNTH], "kind": "multi_instance", "samples_per_epoch": 4, "max_instances": 3,
                 "templates": [{"mode": "full", "size": [128, 96]}], "search": {"mode": "full", "size": [128, 96]}},
        "optim": {"name": "adamw", "lr": 1e-3}, "train": SHORT})
    out = train(cfg, tmp_path / "run", device="cpu")
    trained = load_checkpoint(out / "checkpoint.pt")["model"]
    assert "log_vars" in trained and any(k.startswith("reid_classifier.") for k in trained)
    weights = load_weights(out / "weights.pt", method="dmtrack")
    assert not any(k.startswith(("reid_classifier.", "log_vars")) for k in weights.state_dict)
    tracker = _tracker("dmtrack", out / "weights.pt")  # strict keys: every file key is the network's
    assert set(weights.state_dict) == set(tracker.model.state_dict())
    for key, value in tracker.model.state_dict().items():
        assert torch.equal(value, trained[key]), key


def test_a_tanet_run_writes_the_generator_only(tmp_path):
    torch.set_num_threads(1)
    cfg = config_from_dict({
        "method": "tanet", "model": {"generator": {"width": 4, "input_size": 128, "output_size": 128},
                                     "eval_samples": 0},
        "data": {"sources": [dict(SYNTH, frame_size=[160, 120])], "samples_per_video": 4},
        "optim": {"name": "adagrad", "lr": 1.0e-3, "weight_decay": 0.0}, "train": SHORT})
    out = train(cfg, tmp_path / "run", device="cpu")
    trained = load_checkpoint(out / "checkpoint.pt")["model"]
    assert "iteration" in trained and any(k.startswith(("appearance.", "motion.")) for k in trained)
    weights = load_weights(out / "weights.pt", method="tanet")
    assert weights.state_dict and all(k.startswith("generator.") for k in weights.state_dict)
    tracker = _tracker("tanet:kcf", out / "weights.pt")
    generator = tracker.generator.state_dict()
    assert {f"generator.{k}" for k in generator} == set(weights.state_dict)
    for key, value in generator.items():
        assert torch.equal(value, trained[f"generator.{key}"]), key

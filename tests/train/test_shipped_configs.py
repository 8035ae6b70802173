"""Every config in configs/ parses, and none trains on an evaluation set (real-val and real may
only appear as data.validation)."""
import os
from pathlib import Path

import pytest

from longtrack.datasets.evaluation_only import evaluation_only_reason
from longtrack.train import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_a_shipped_config_parses_and_trains_on_training_data_only(path, monkeypatch):
    monkeypatch.chdir(REPO)  # roots in configs are relative to the repository
    cfg = load_config(path)
    for source in cfg.data.sources:
        for root in (source.root, source.source_root):
            if root is not None:
                assert evaluation_only_reason(os.path.expanduser(root)) is None, (path.name, root)


def test_the_real_video_config_trains_on_real_train_and_validates_on_real_val(monkeypatch):
    monkeypatch.chdir(REPO)
    cfg = load_config(REPO / "configs" / "globaltrack-real.yaml")
    assert [s.name for s in cfg.data.sources] == ["lasot", "synthetic"]
    assert cfg.data.sources[1].preset == "lt-real"
    assert cfg.data.validation.root.endswith("real-val")
    assert cfg.train.freeze[0].prefix == "backbone" and cfg.model.pretrained_backbone

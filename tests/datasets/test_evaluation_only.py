"""Evaluation sets are refused as training data: real-val and real by their READMEs, any root
by an EVALUATION_ONLY marker."""
from pathlib import Path

import pytest

from longtrack import LongtrackError
from longtrack.datasets.evaluation_only import MARKER_FILE, evaluation_only_reason
from longtrack.train.config import SourceConfig
from longtrack.train.data.sources import DatasetSource

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.parametrize("root", ["real-val", "real", "real/Crossing", "real-val/bird"])
def test_the_shared_evaluation_sets_are_refused_as_training_sources(root):
    if not (SHARED / root).is_dir():
        pytest.skip(f"{SHARED / root} not present")
    with pytest.raises(LongtrackError, match="is an evaluation set"):
        DatasetSource(SourceConfig("lasot" if "real-val" in root else "otb", root=str(SHARED / root)))


def test_real_train_may_be_trained_on():
    if not (SHARED / "real-train").is_dir():
        pytest.skip("real-train not present")
    assert evaluation_only_reason(SHARED / "real-train") is None
    assert len(DatasetSource(SourceConfig("lasot", root=str(SHARED / "real-train"), split="all"))) == 27


def test_a_marker_file_makes_any_root_evaluation_only(tmp_path):
    assert evaluation_only_reason(tmp_path) is None
    (tmp_path / MARKER_FILE).write_text("")
    assert MARKER_FILE in evaluation_only_reason(tmp_path)
    assert evaluation_only_reason(tmp_path / "child") is not None  # a sequence folder inside it

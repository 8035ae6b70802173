"""``resolve_option``: the caller's value, else the weights file's ``tracker`` section, else the default."""
import pytest
import torch

from longtrack.checkpoint import load_weights, save_weights
from longtrack.errors import LongtrackError
from longtrack.trackers.options import resolve_option


def _weights(tmp_path, tracker_section):
    config = {"model": {}} if tracker_section is None else {"model": {}, "tracker": tracker_section}
    path = save_weights(tmp_path / "w.pt", method="toy", config=config, state_dict={"w": torch.zeros(1)})
    return load_weights(path)


def test_explicit_then_the_weights_then_the_default(tmp_path):
    tuned = _weights(tmp_path, {"presence_threshold": 0.4, "crop": "authors", "unset": None})
    assert resolve_option("presence_threshold", 0.7, tuned, 0.5) == 0.7
    assert resolve_option("presence_threshold", None, tuned, 0.5) == 0.4
    assert resolve_option("presence_threshold", 0.0, tuned, 0.5) == 0.0  # a falsy explicit value still wins
    assert resolve_option("crop", None, tuned, "exact") == "authors"
    assert resolve_option("unset", None, tuned, 3) == 3  # a null entry is no tuned value
    assert resolve_option("recover_score", None, tuned, 0.2) == 0.2  # not in the file
    assert resolve_option("presence_threshold", None, _weights(tmp_path, None), 0.5) == 0.5  # no section
    assert resolve_option("presence_threshold", None, None, 0.5) == 0.5  # no weights file


def test_a_malformed_tracker_section_names_the_file(tmp_path):
    broken = _weights(tmp_path, [0.4])
    with pytest.raises(LongtrackError, match=r"w\.pt: the config's tracker section must be a mapping"):
        resolve_option("presence_threshold", None, broken, 0.5)
    assert resolve_option("presence_threshold", 0.3, broken, 0.5) == 0.3  # the file is not read

"""``load_dataset``: the registry of benchmark names, selection of sequences, clear errors."""
import importlib

import pytest

from longtrack.datasets import DATASET_NAMES, DATASETS, Sequence, load_dataset
from longtrack.errors import LongtrackError


def test_names_are_the_documented_ones_and_every_reader_imports():
    assert DATASET_NAMES == ("lasot", "lasot_ext", "tlp", "oxuva", "votlt2018", "votlt2019", "votlt2020",
                             "trackingnet", "got10k", "otb", "uav", "synthetic")
    for spec in DATASETS.values():
        module, attr = spec.index.split(":")
        assert callable(getattr(importlib.import_module(module), attr))


def test_unknown_dataset_lists_the_choices(tmp_path):
    with pytest.raises(LongtrackError, match="unknown dataset 'lasott'.*lasot, lasot_ext, tlp"):
        load_dataset("lasott", tmp_path)


def test_missing_root(tmp_path):
    with pytest.raises(LongtrackError, match="root folder .*nowhere does not exist"):
        load_dataset("otb", tmp_path / "nowhere")


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_empty_root_says_what_layout_is_expected(tmp_path, name):
    with pytest.raises(LongtrackError, match=f"no {name.split('_')[0]}.* sequences found under {tmp_path}; expected"):
        load_dataset(name, tmp_path)


def test_selecting_unknown_sequences(shared_dir):
    root = shared_dir / "fixtures" / "eval" / "got10k"
    with pytest.raises(LongtrackError, match="1 sequence.*not found.*GOT-10k_Val_999999 .*10 available"):
        load_dataset("got10k", root, sequences=["GOT-10k_Val_000026", "GOT-10k_Val_999999"])
    (seq,) = load_dataset("got10k", root, sequences=["GOT-10k_Val_000083"])
    assert isinstance(seq, Sequence) and seq.name == "GOT-10k_Val_000083"


@pytest.mark.parametrize("name,split", [("got10k", "dev"), ("lasot", "validation"), ("otb", "test"),
                                        ("uav", "UAV999"), ("trackingnet", "val"), ("oxuva", "train")])
def test_unknown_split(shared_dir, name, split):
    with pytest.raises(LongtrackError, match=f"unknown split '{split}'"):
        load_dataset(name, shared_dir / "fixtures" / "eval" / "lasot", split=split)

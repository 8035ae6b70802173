import pickle

import pytest
import torch
from torch import nn

from longtrack import LongtrackError
from longtrack.checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights

CONFIG = {"method": "toy", "model": {"width": 4}, "train": {"steps": 3}}


class Payload:  # an arbitrary class: weights-only loading must refuse it
    pass


def _state():
    torch.manual_seed(0)
    return nn.Linear(3, 2).state_dict()


def _save_training(path):
    model = nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    return save_checkpoint(path, method="toy", config=CONFIG, model=model.state_dict(), step=7,
                           optimizer=opt.state_dict(), rng=[{"torch": torch.get_rng_state()}],
                           data={"next_step": 7})


def test_training_checkpoint_round_trip(tmp_path):
    path = _save_training(tmp_path / "ckpt.pt")
    ckpt = load_checkpoint(path)
    assert ckpt["step"] == 7 and ckpt["method"] == "toy" and ckpt["config"] == CONFIG
    assert ckpt["data"] == {"next_step": 7}
    assert ckpt["optimizer"]["state"][0]["exp_avg"].shape == (2, 3)
    prov = ckpt["provenance"]
    assert prov["longtrack_version"] and prov["time"] and "command" in prov
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left behind


def test_weights_round_trip_and_method_check(tmp_path):
    state = _state()
    path = save_weights(tmp_path / "w.pt", method="toy", config=CONFIG, state_dict=state, step=3)
    weights = load_weights(path, method="toy")
    assert weights.model_config == {"width": 4} and weights.step == 3
    for key, value in state.items():
        torch.testing.assert_close(weights.state_dict[key], value)
    with pytest.raises(LongtrackError, match="for method 'toy', not 'other'"):
        load_weights(path, method="other")
    with pytest.raises(LongtrackError, match="not a training checkpoint"):
        load_checkpoint(path)


def test_load_weights_accepts_a_training_checkpoint(tmp_path):
    path = _save_training(tmp_path / "ckpt.pt")
    assert set(load_weights(path).state_dict) == {"weight", "bias"}


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.0])
def test_truncated_file_gives_a_clear_error(tmp_path, keep):
    path = _save_training(tmp_path / "ckpt.pt")
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(LongtrackError, match=r"ckpt\.pt (is truncated|is empty)"):
        load_checkpoint(path)


def test_foreign_files_give_clear_errors(tmp_path):
    plain = tmp_path / "plain.pt"
    torch.save({"state_dict": _state()}, plain)  # an authors' checkpoint, not converted
    with pytest.raises(LongtrackError, match="not a longtrack checkpoint.*longtrack convert"):
        load_weights(plain)

    evil = tmp_path / "evil.pt"
    torch.save({"format": "longtrack-checkpoint", "obj": Payload()}, evil)
    with pytest.raises(LongtrackError, match="weights-only loading refuses"):
        load_weights(evil)

    raw_pickle = tmp_path / "raw.pkl"
    raw_pickle.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(LongtrackError, match="raw.pkl"):
        load_weights(raw_pickle)

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(LongtrackError, match="notes.txt"):
        load_checkpoint(text)

    with pytest.raises(LongtrackError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "future.pt"
    torch.save({"format": "longtrack-checkpoint", "format_version": 99, "kind": "weights",
                "method": "toy", "config": {}, "model": {}}, path)
    with pytest.raises(LongtrackError, match="upgrade longtrack"):
        load_weights(path)


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(tmp_path, poison):
    state = _state()
    state["weight"] = torch.full_like(state["weight"], poison)
    path = save_weights(tmp_path / "diverged.pt", method="toy", config=CONFIG, state_dict=state)
    with pytest.raises(LongtrackError, match=r"diverged.pt holds non-finite weights.*weight with 6 of 6"):
        load_weights(path)
    state = _state()
    state["bias"][1] = poison  # a single bad value is enough to poison every output
    path = save_checkpoint(tmp_path / "ckpt.pt", method="toy", config=CONFIG, model=state, step=1)
    with pytest.raises(LongtrackError, match="bias with 1 of 2"):
        load_checkpoint(path)

import os
from pathlib import Path

import pytest
import torch
import yaml

from longtrack.train.methods import ALLOW_CODE_METHODS_ENV

TRAIN_TESTS = Path(__file__).resolve().parent


def tiny_config(**sections) -> dict:
    """tiny-synth.yaml (the tiny test method on the synthetic stream), shortened to 8 steps of
    batch 4 with a log line per step, then ``sections`` merged in (a dict updates a section)."""
    cfg = yaml.safe_load((TRAIN_TESTS / "tiny-synth.yaml").read_text())
    cfg["train"].update({"steps": 8, "batch_size": 4, "log_every": 1, "ckpt_every": 4})
    for name, values in sections.items():
        cfg[name] = {**cfg.get(name, {}), **values} if isinstance(values, dict) else values
    return cfg


@pytest.fixture
def tiny_synth_yaml() -> Path:
    return TRAIN_TESTS / "tiny-synth.yaml"


@pytest.fixture
def write_config(tmp_path):
    """``write_config(**sections) -> path`` of a YAML file of ``tiny_config(**sections)``."""

    def write(name="config.yaml", **sections) -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(tiny_config(**sections)))
        return path

    return write


@pytest.fixture(autouse=True)
def allow_tiny_method(monkeypatch):
    """These tests train ``tiny_method:build``, a code method: allowed explicitly, as a user would."""
    monkeypatch.setenv(ALLOW_CODE_METHODS_ENV, "1")


@pytest.fixture
def subprocess_env():
    """Environment for `longtrack train` subprocesses: the tiny method importable and allowed, one thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TRAIN_TESTS), env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"
    env[ALLOW_CODE_METHODS_ENV] = "1"
    return env


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The test machine's cores are shared: more threads than cores make small convs ~30x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

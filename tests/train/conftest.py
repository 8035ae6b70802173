import os
from pathlib import Path

import pytest
import torch
import yaml

TRAIN_TESTS = Path(__file__).resolve().parent


def tiny_config(**sections) -> dict:
    """The tiny test method on the synthetic stream: small frames, small crops."""
    cfg = {
        "method": "tiny_method:build",
        "model": {"width": 8, "dropout": 0.1},
        "data": {
            "sources": [{"name": "synthetic", "preset": "mini", "frame_size": [128, 96],
                         "num_sequences": 40, "cache": 40}],
            "templates": [{"factor": 2.0, "size": 32}],
            "search": {"factor": 4.0, "size": 64, "scale_jitter": 0.25, "center_jitter": 3.0},
            "flip_prob": 0.5,
        },
        "optim": {"name": "adamw", "lr": 3e-3, "weight_decay": 1e-4},
        "schedule": {"name": "cosine", "warmup_steps": 2},
        "train": {"steps": 8, "batch_size": 4, "log_every": 1, "ckpt_every": 4, "tensorboard": False,
                  "seed": 1},
    }
    for name, values in sections.items():
        cfg[name] = {**cfg.get(name, {}), **values} if isinstance(values, dict) else values
    return cfg


@pytest.fixture
def write_config(tmp_path):
    """``write_config(**sections) -> path`` of a YAML file of ``tiny_config(**sections)``."""

    def write(name="config.yaml", **sections) -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(tiny_config(**sections)))
        return path

    return write


@pytest.fixture
def subprocess_env():
    """Environment for `longtrack train` subprocesses: the tiny method importable, one thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TRAIN_TESTS), env.get("PYTHONPATH")) if p)
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The test machine's cores are shared: more threads than cores make small convs ~30x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

"""`longtrack train` under torchrun: two CPU processes (gloo) train like one process."""
import json
import subprocess
import sys

import pytest
import torch

from longtrack.checkpoint import load_checkpoint, load_weights
from longtrack.train.run import train


def _losses(folder):
    return [json.loads(line)["loss"] for line in (folder / "log.jsonl").read_text().splitlines()]


def test_two_process_torchrun_matches_one_process(tmp_path, write_config, subprocess_env):
    # No dropout: each rank has its own RNG, so only then are the two runs the same computation.
    # SGD: Adam turns the rounding noise of a gradient that is zero in exact arithmetic (the
    # heatmap bias under a softmax) into lr-sized steps, which would hide real differences.
    config = write_config(model={"dropout": 0.0}, optim={"name": "sgd", "lr": 0.05},
                          train={"steps": 6, "ckpt_every": 3, "batch_size": 4})
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    train(config, single)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "longtrack", "train", str(config), "--out", str(ddp)]
    result = subprocess.run(command, env=subprocess_env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    # rank 0 alone logs (one line per step) and checkpoints, with both ranks' RNG states
    assert len(_losses(ddp)) == 6
    ckpt = load_checkpoint(ddp / "checkpoint.pt")
    assert ckpt["step"] == 6 and len(ckpt["rng"]) == 2
    assert not list(ddp.glob(".*.tmp"))
    # the two ranks split each global batch of the single run: same losses and weights
    assert _losses(ddp) == pytest.approx(_losses(single), rel=1e-5, abs=1e-5)
    a, b = load_weights(single / "weights.pt").state_dict, load_weights(ddp / "weights.pt").state_dict
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=1e-5, atol=1e-6)

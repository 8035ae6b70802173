"""train.freeze (frozen prefixes released at a step) and train.channels_last."""
import json

import pytest
import torch
from torch import nn

from longtrack import LongtrackError
from longtrack.train.config import FreezeConfig
from longtrack.train.freezing import FreezePlan
from longtrack.train.hooks import Hook
from longtrack.train.run import train


class _Snapshots(Hook):
    """The search encoder's and the head's weights after every step."""

    def __init__(self):
        self.encoder, self.head = [], []

    def before_train(self, trainer):
        self.after_step(trainer)

    def after_step(self, trainer):
        model = trainer.raw_model
        self.encoder.append(model.search_encoder[0].weight.detach().clone())
        self.head.append(model.heatmap.weight.detach().clone())


def test_a_frozen_prefix_does_not_move_until_its_release_step(tmp_path, write_config):
    config = write_config(train={"steps": 6, "freeze": [{"prefix": "search_encoder", "until_step": 3}]})
    snaps = _Snapshots()
    train(config, tmp_path / "run", extra_hooks=[snaps])
    for step in range(1, 4):  # steps 1-3 ran frozen
        assert torch.equal(snaps.encoder[step], snaps.encoder[0]), step
        assert not torch.equal(snaps.head[step], snaps.head[step - 1]), step
    for step in range(4, 7):  # released from step 4 on
        assert not torch.equal(snaps.encoder[step], snaps.encoder[step - 1]), step


def test_a_resumed_run_keeps_the_freeze_schedule(tmp_path, write_config):
    config = write_config(train={"steps": 8, "ckpt_every": 4,
                                 "freeze": [{"prefix": "search_encoder", "until_step": 6}]})
    whole = _Snapshots()
    train(config, tmp_path / "whole", extra_hooks=[whole])

    class _StopAt4(Hook):
        def after_step(self, trainer):
            if trainer.step == 4:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "split", extra_hooks=[_StopAt4()])
    resumed = _Snapshots()
    train(config, tmp_path / "split", resume=True, extra_hooks=[resumed])
    assert torch.equal(resumed.encoder[0], whole.encoder[0])  # untouched through step 4
    assert torch.equal(resumed.encoder[2], whole.encoder[0])  # and steps 5-6
    assert torch.allclose(resumed.encoder[-1], whole.encoder[-1], atol=1e-6)


def test_batchnorm_under_a_frozen_prefix_keeps_its_statistics_until_release():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1), nn.BatchNorm2d(2))
    plan = FreezePlan(model, (FreezeConfig("0", until_step=2), FreezeConfig("1", until_step=2)))
    model.train()
    assert plan.apply(model, 0) is True
    assert not model[0].weight.requires_grad and model[2].weight.requires_grad
    assert not model[1].training and model[3].training
    before = model[1].running_mean.clone()
    model(torch.randn(2, 3, 8, 8))
    assert torch.equal(model[1].running_mean, before)
    assert plan.apply(model, 1) is False  # same frozen set: a DDP wrapper may stay
    model.train()
    assert plan.apply(model, 2) is True and model[1].training and model[0].weight.requires_grad


def test_an_unknown_freeze_prefix_is_one_clear_error():
    with pytest.raises(LongtrackError, match="no parameter of the model starts with 'backbone'"):
        FreezePlan(nn.Linear(2, 2), (FreezeConfig("backbone"),))


def test_channels_last_trains_the_same_losses(tmp_path, write_config):
    logs = {}
    for flag in (False, True):
        out = tmp_path / f"run-{flag}"
        train(write_config(name=f"c{flag}.yaml", train={"steps": 4, "channels_last": flag}), out)
        logs[flag] = [json.loads(line)["loss"] for line in (out / "log.jsonl").read_text().splitlines()]
    assert logs[True] == pytest.approx(logs[False], rel=5e-3)  # other conv kernels, same run

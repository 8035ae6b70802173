import json

import pytest
import torch
from torch import nn

from longtrack import LongtrackError
from longtrack.cli import main
from longtrack.train.config import OptimConfig, ScheduleConfig
from longtrack.train.hooks import Hook
from longtrack.train.optim import build_optimizer, lr_factor
from longtrack.train.run import train


def _log(folder):
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


def test_loss_falls_over_a_few_hundred_steps_on_the_synthetic_stream(tmp_path, tiny_synth_yaml):
    out = tmp_path / "run"  # 300 steps of batch 8, a log line every 25
    assert main(["train", str(tiny_synth_yaml), "--out", str(out)]) == 0
    losses = [r["loss"] for r in _log(out)]
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < 0.75 * sum(losses[:2]) / 2, losses
    assert {p.name for p in out.iterdir()} >= {"config.yaml", "log.jsonl", "checkpoint.pt", "weights.pt"}


def test_lr_schedules():
    warm = ScheduleConfig(name="step", warmup_steps=4, warmup_start=0.2, milestones=(6, 8), gamma=0.5)
    assert [lr_factor(s, warm, 10) for s in range(10)] == pytest.approx(
        [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25])
    cosine = ScheduleConfig(name="cosine", min_factor=0.1)
    assert lr_factor(0, cosine, 100) == 1.0 and lr_factor(100, cosine, 100) == pytest.approx(0.1)
    assert lr_factor(50, cosine, 100) == pytest.approx(0.55)


def test_lr_multipliers_make_parameter_groups():
    model = nn.Sequential()
    model.add_module("backbone", nn.Linear(2, 2))
    model.add_module("backbone_head", nn.Linear(2, 2))  # a prefix of the name, not of the path
    model.add_module("head", nn.Linear(2, 1))
    opt = build_optimizer(model, OptimConfig(name="sgd", lr=0.1, lr_multipliers={"backbone": 0.1}))
    groups = {round(g["lr"], 6): len(g["params"]) for g in opt.param_groups}
    assert groups == {0.01: 2, 0.1: 4}
    with pytest.raises(LongtrackError, match="no trainable parameter starts with 'neck'"):
        build_optimizer(model, OptimConfig(lr_multipliers={"neck": 0.1}))


def test_eval_hook_logs_scores(tmp_path, write_config):
    config = write_config(method="tiny_method:build_with_eval", train={"steps": 4, "eval_every": 2})
    train(config, tmp_path / "run")
    evals = [r for r in _log(tmp_path / "run") if "eval/size_bias" in r]
    assert [r["step"] for r in evals] == [2, 4]
    assert evals[0]["eval/size_bias"] != evals[1]["eval/size_bias"]


def test_tensorboard_events_when_installed(tmp_path, write_config):
    pytest.importorskip("tensorboard")
    train(write_config(train={"steps": 2, "tensorboard": True}), tmp_path / "run")
    assert list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))


@pytest.mark.parametrize("method, message", [
    ("tiny_method:build_without_total", "the criterion returned no 'loss' entry"),
    ("tiny_method:build_diverging", "step 1: the loss is nan"),
])
def test_broken_methods_fail_clearly(tmp_path, write_config, method, message):
    with pytest.raises(LongtrackError, match=message):
        train(write_config(method=method), tmp_path / "run")


def test_fp16_needs_cuda_and_the_cli_prints_one_line(tmp_path, write_config, capsys):
    config = write_config(train={"amp": "fp16"})
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "longtrack: error: train.amp fp16 needs a CUDA device; use bf16 on the CPU"


def test_bf16_autocast_runs_the_model_in_bfloat16(tmp_path, write_config):
    seen = []

    class RecordDtype(Hook):
        def before_train(self, trainer):
            trainer.raw_model.heatmap.register_forward_hook(lambda m, i, o: seen.append(o.dtype))

    train(write_config(train={"steps": 1, "amp": "bf16"}), tmp_path / "run", extra_hooks=[RecordDtype()])
    assert seen == [torch.bfloat16]


def test_the_optimizer_follows_the_schedule_and_the_log_says_so(tmp_path, write_config):
    schedule = {"name": "step", "warmup_steps": 2, "warmup_start": 0.5, "milestones": [4], "gamma": 0.1}
    config = write_config(schedule=schedule, optim={"lr": 0.01}, train={"steps": 6})
    next_lrs = []

    class RecordLR(Hook):  # runs after the schedule hook: the lr the next step will use
        def after_step(self, trainer):
            next_lrs.append(trainer.optimizer.param_groups[0]["lr"])

    train(config, tmp_path / "run", extra_hooks=[RecordLR()])
    logged = [r["lr"] for r in _log(tmp_path / "run")]
    assert logged == pytest.approx([0.005, 0.0075, 0.01, 0.01, 0.001, 0.001])
    assert next_lrs[:-1] == pytest.approx(logged[1:])

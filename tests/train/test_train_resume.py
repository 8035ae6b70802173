"""Killing a run and resuming it gives the loss curve and weights of an uninterrupted run."""
import json
import signal
import subprocess
import sys
import time

import pytest
import torch

from longtrack import LongtrackError
from longtrack.checkpoint import load_checkpoint, load_weights
from longtrack.cli import main
from longtrack.train.hooks import Hook
from longtrack.train.run import train


def _log(folder):
    return [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]


def _curve(folder):
    return [{k: v for k, v in r.items() if k not in ("steps_per_s",)} for r in _log(folder)]


def _assert_same_weights(a, b):
    wa, wb = load_weights(a / "weights.pt").state_dict, load_weights(b / "weights.pt").state_dict
    assert wa.keys() == wb.keys()
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=0, atol=0)


class CrashAt(Hook):
    def __init__(self, step):
        self.step = step

    def after_step(self, trainer):
        if trainer.step == self.step:
            raise RuntimeError("simulated crash")


@pytest.mark.parametrize("amp", ["none", "bf16"])
def test_crash_and_resume_gives_the_uninterrupted_curve(tmp_path, write_config, amp):
    config = write_config(train={"steps": 10, "ckpt_every": 4, "amp": amp})
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train(config, straight)
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(config, resumed, extra_hooks=[CrashAt(6)])  # checkpoint at 4, log up to 6
    assert load_checkpoint(resumed / "checkpoint.pt")["step"] == 4
    assert len(_log(resumed)) == 6
    train(config, resumed, resume=True)
    assert _curve(resumed) == _curve(straight)  # exactly: steps 5 and 6 were rewritten
    assert [r["step"] for r in _log(resumed)] == list(range(1, 11))
    _assert_same_weights(straight, resumed)
    ckpt = load_checkpoint(resumed / "checkpoint.pt")
    assert ckpt["step"] == 10 and ckpt["data"]["samples_seen"] == 40


def test_sigkill_then_resume_via_the_cli(tmp_path, write_config, subprocess_env):
    config = write_config(train={"steps": 40, "ckpt_every": 5})
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    assert main(["train", str(config), "--out", str(straight)]) == 0
    proc = subprocess.Popen([sys.executable, "-m", "longtrack", "train", str(config), "--out", str(killed)],
                            env=subprocess_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (killed / "checkpoint.pt").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    at_kill = load_checkpoint(killed / "checkpoint.pt")["step"]
    assert at_kill < 40 and not (killed / "weights.pt").exists()
    result = subprocess.run([sys.executable, "-m", "longtrack", "train", str(config), "--out", str(killed),
                             "--resume"], env=subprocess_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"resuming {killed} at step {at_kill}" in result.stdout
    assert _curve(killed) == _curve(straight)
    _assert_same_weights(straight, killed)


def test_an_existing_run_is_not_overwritten_and_a_changed_config_not_resumed(tmp_path, write_config):
    config = write_config(train={"steps": 4})
    out = tmp_path / "run"
    train(config, out)
    with pytest.raises(LongtrackError, match="already holds a training run"):
        train(config, out)
    changed = write_config("changed.yaml", train={"steps": 4}, optim={"lr": 0.5})
    with pytest.raises(LongtrackError, match="config changed in optim.lr"):
        train(changed, out, resume=True)
    longer = write_config("longer.yaml", train={"steps": 6})  # more steps may be added
    train(longer, out, resume=True)
    assert [r["step"] for r in _log(out)] == [1, 2, 3, 4, 5, 6]


def test_a_run_from_before_an_option_existed_resumes_at_its_default(tmp_path, write_config):
    # A checkpoint written before an option was added lacks its key; the option's default keeps
    # the old behaviour, so the run resumes. A saved value that differs is still refused.
    config, out = write_config(train={"steps": 2}), tmp_path / "run"
    train(config, out)
    ckpt_path = out / "checkpoint.pt"
    ckpt = torch.load(ckpt_path, weights_only=True)
    assert "grad_clip" in ckpt["config"]["train"]
    del ckpt["config"]["train"]["grad_clip"]
    torch.save(ckpt, ckpt_path)
    train(write_config("longer.yaml", train={"steps": 3}), out, resume=True)
    assert [r["step"] for r in _log(out)] == [1, 2, 3]
    ckpt = torch.load(ckpt_path, weights_only=True)
    ckpt["config"]["train"]["grad_clip"] = 123.0
    torch.save(ckpt, ckpt_path)
    with pytest.raises(LongtrackError, match="config changed in train.grad_clip"):
        train(write_config("longest.yaml", train={"steps": 4}), out, resume=True)


def test_set_changes_a_value_and_resume_keeps_to_it(tmp_path, write_config, capsys):
    import yaml

    config, out = write_config(train={"steps": 4}), tmp_path / "run"
    base = ["train", str(config), "--out", str(out), "--device", "cpu"]
    assert main(base + ["--set", "optim.lr=0.01", "--set", "train.steps=3"]) == 0
    assert yaml.safe_load((out / "config.yaml").read_text())["optim"]["lr"] == 0.01
    assert [r["step"] for r in _log(out)] == [1, 2, 3]
    assert main(base + ["--resume", "--set", "train.steps=4"]) == 1  # lr back at the file's value
    assert "config changed in optim.lr" in capsys.readouterr().err
    assert main(base + ["--resume", "--set", "optim.lr=1.0e-2", "--set", "train.steps=4"]) == 0
    assert [r["step"] for r in _log(out)] == [1, 2, 3, 4]
    for bad, needle in (("optim.lr", "SECTION.KEY=VALUE"), ("optim..lr=1", "SECTION.KEY=VALUE"),
                        ("optim.lr.x=1", "optim.lr is not a section"), ("model.nope=1", "nope")):
        assert main(["train", str(config), "--out", str(tmp_path / "other"), "--set", bad]) == 1
        assert needle in capsys.readouterr().err


def test_init_weights_starts_the_model_from_an_earlier_run(tmp_path, write_config):
    first = tmp_path / "first"
    train(write_config(train={"steps": 3}), first)
    # Zero steps are not allowed, so compare the first logged loss: the fine-tune starts where the
    # earlier run ended, a fresh run (same seed) where the earlier run started.
    tuned, fresh = tmp_path / "tuned", tmp_path / "fresh"
    train(write_config("tuned.yaml", train={"steps": 1, "init_weights": str(first / "weights.pt")}), tuned)
    train(write_config("fresh.yaml", train={"steps": 1}), fresh)
    assert _log(tuned)[0]["loss"] != pytest.approx(_log(fresh)[0]["loss"])
    assert _log(fresh)[0]["loss"] == pytest.approx(_log(first)[0]["loss"])
    # The weights must fit: a file of another method is refused by name.
    from longtrack.checkpoint import save_weights
    other = tmp_path / "other.pt"
    save_weights(other, method="globaltrack", config={"model": {}}, state_dict={})
    with pytest.raises(LongtrackError, match="holds weights for method 'globaltrack'"):
        train(write_config("bad.yaml", train={"steps": 1, "init_weights": str(other)}), tmp_path / "bad")

import textwrap

import pytest

from longtrack import LongtrackError
from longtrack.train.config import ViewConfig, config_from_dict, config_to_dict, load_config

GOOD = """\
method: tiny_method:build
model:
  width: 8
data:
  sources:
    - name: synthetic
      preset: mini
      num_sequences: 4
  templates:
    - {factor: 2.0, size: 32}
  search: {factor: 4.0, size: 64, scale_jitter: 0.25, center_jitter: 3}
  flip_prob: 0.5
optim:
  lr: 1e-4
  lr_multipliers: {search_encoder: 0.1}
schedule:
  name: step
  milestones: [10, 20]
train:
  steps: 30
  batch_size: 4
  amp: bf16
"""


def _write(tmp_path, text, name="cfg.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_full_config_parses_into_typed_sections(tmp_path):
    cfg = load_config(_write(tmp_path, GOOD))
    assert cfg.model.width == 8 and cfg.model.dropout == 0.1  # the method's own ModelConfig
    assert cfg.optim.lr == pytest.approx(1e-4)  # YAML reads '1e-4' as a string: coerced
    assert cfg.optim.lr_multipliers == {"search_encoder": 0.1}
    assert cfg.data.search == ViewConfig(factor=4.0, size=64, scale_jitter=0.25, center_jitter=3.0)
    assert cfg.data.sources[0].num_sequences == 4 and cfg.schedule.milestones == (10, 20)
    assert cfg.train.amp == "bf16" and cfg.train.seed == 0
    assert config_from_dict(config_to_dict(cfg)) == cfg


@pytest.mark.parametrize("old, new, key, line", [
    ("  lr: 1e-4", "  lr: 1e-4\n  lrr: 2", "optim.lrr", 15),
    ("method: tiny_method:build", "method: tiny_method:build\nepochs: 3", "epochs", 2),
    ("  width: 8", "  width: 8\n  depth: 2", "model.depth", 4),
    ("      num_sequences: 4", "      num_sequences: 4\n      rooot: /x", "data.sources.0.rooot", 9),
    ("center_jitter: 3}", "center_jiter: 3}", "data.search.center_jiter", 11),
])
def test_unknown_keys_are_rejected_naming_file_line_and_key(tmp_path, old, new, key, line):
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(LongtrackError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: {key}: unknown key '{key.split('.')[-1]}'"), message


@pytest.mark.parametrize("old, new, needle", [
    ("  steps: 30", "  steps: many", "train.steps: expected a whole number, got 'many'"),
    ("  amp: bf16", "  amp: fp8", "train.amp: must be one of 'none', 'bf16', 'fp16'"),
    ("  flip_prob: 0.5", "  flip_prob: 1.5", "data: flip_prob must lie in [0, 1]"),
    ("  steps: 30", "  steps: 0", "train: steps and batch_size must be >= 1"),
    ("method: tiny_method:build", "method: nosuch", "method: unknown method 'nosuch'"),
    ("  - name: synthetic", "  - name: lasot", "source 'lasot' needs a root folder"),
])
def test_bad_values_are_rejected_with_the_file_named(tmp_path, old, new, needle):
    path = _write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(LongtrackError, match=str(path)) as info:
        load_config(path)
    assert needle in str(info.value)


def test_invalid_yaml_and_missing_file(tmp_path):
    with pytest.raises(LongtrackError, match=r"bad.yaml:\d+: not valid YAML"):
        load_config(_write(tmp_path, "method: [unclosed\n", "bad.yaml"))
    with pytest.raises(LongtrackError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(LongtrackError, match="method: is required"):
        load_config(_write(tmp_path, "train: {steps: 3}\n", "nomethod.yaml"))


def test_configs_are_frozen(tmp_path):
    cfg = load_config(_write(tmp_path, GOOD))
    with pytest.raises(AttributeError):
        cfg.train.steps = 5


def test_a_key_given_twice_is_refused_naming_file_and_line(tmp_path):
    path = _write(tmp_path, GOOD.replace("  steps: 30", "  steps: 30\n  batch_size: 2\n  steps: 60"))
    with pytest.raises(LongtrackError) as info:
        load_config(path)
    line = GOOD.splitlines().index("  steps: 30") + 1
    assert str(info.value).startswith(f"{path}:{line + 2}: not valid YAML (duplicate key 'steps' "
                                      f"(first given on line {line}))")


def test_a_binary_file_given_as_config_is_one_clear_error(tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42\xa5\xff\x00" * 8)
    with pytest.raises(LongtrackError, match="clip.mp4 is not a text file"):
        load_config(video)


def test_code_methods_need_the_explicit_flag(tmp_path, monkeypatch, capsys):
    from longtrack.cli import main

    monkeypatch.delenv("LONGTRACK_ALLOW_CODE_METHODS")
    path = _write(tmp_path, GOOD)
    with pytest.raises(LongtrackError, match="method 'tiny_method:build' is not a built-in method.*"
                                             "--allow-code-methods"):
        load_config(path)
    assert load_config(_write(tmp_path, GOOD.replace("tiny_method:build", "procontext").split("model:")[0]
                              + GOOD.split("  width: 8\n")[1], "builtin.yaml")).method == "procontext"
    bad_steps = _write(tmp_path, GOOD.replace("  steps: 30", "  steps: many"), "bad_steps.yaml")
    assert main(["train", str(bad_steps), "--out", str(tmp_path / "run")]) == 1
    assert "--allow-code-methods" in capsys.readouterr().err  # refused before anything is imported
    assert main(["train", str(bad_steps), "--out", str(tmp_path / "run"), "--allow-code-methods"]) == 1
    assert "train.steps: expected a whole number" in capsys.readouterr().err  # the method was accepted

"""``longtrack synth``: writes the LaSOT layout and list.txt; bad input is a one-line error."""
import hashlib
from pathlib import Path

import numpy as np
import pytest

from longtrack.cli import main
from longtrack.datasets.lasot import load_sequence_dir
from longtrack.synth import make_sequence


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def test_cli_writes_sequences_with_the_right_frame_counts(tmp_path, capsys):
    out = tmp_path / "synth"
    assert main(["synth", "--out", str(out), "--preset", "mini", "--split", "val", "--num", "2"]) == 0
    names = (out / "list.txt").read_text().split()
    expected = [make_sequence("mini", "val", i) for i in range(2)]
    assert names == [s.name for s in expected]
    for seq in expected:
        loaded = load_sequence_dir(out, seq.name)
        assert len(loaded.frames) == len(seq) == len(loaded)
        np.testing.assert_array_equal(loaded.boxes, seq.boxes)
        np.testing.assert_array_equal(loaded.absent, seq.absent)
    assert "wrote 2 mini sequences" in capsys.readouterr().out


def test_cli_lt_same_seed_twice_is_byte_identical(tmp_path):
    args = ["synth", "--preset", "lt", "--split", "test", "--num", "2", "--size", "160x120", "--num-frames", "420"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    for name in (tmp_path / "a" / "list.txt").read_text().split():
        loaded = load_sequence_dir(tmp_path / "a", name)
        assert len(loaded) == 420 and loaded.attributes["out_of_view"].any() and loaded.absent.any()
    seeded = ["synth", "--preset", "mini", "--num", "1", "--seed", "5", "--num-frames", "100"]
    assert main(seeded + ["--out", str(tmp_path / "c")]) == 0
    assert _digest(tmp_path / "c") != _digest(tmp_path / "a")


@pytest.mark.parametrize("extra, message", [
    (["--size", "640by480"], "WIDTHxHEIGHT"),
    (["--size", "8x8"], "outside"),
    (["--num", "0"], "--num"),
    (["--seed", "-1"], "--seed"),
    (["--num-frames", "20"], "too few"),
])
def test_cli_bad_input_is_one_line(tmp_path, capsys, extra, message):
    args = ["synth", "--out", str(tmp_path / "x"), "--preset", "mini", "--num", "1"]
    assert main(args + extra) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_cli_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for out in (blocker, blocker / "inside"):
        assert main(["synth", "--out", str(out), "--preset", "mini", "--num", "1"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("longtrack: error:") and str(blocker) in err


@pytest.mark.slow
def test_cli_lt_test_split_full_size(tmp_path):
    """The issue's check, at full size: two lt test sequences, twice, byte-identical and readable."""
    args = ["synth", "--preset", "lt", "--split", "test", "--num", "2"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    for index, name in enumerate((tmp_path / "a" / "list.txt").read_text().split()):
        seq = make_sequence("lt", "test", index)
        loaded = load_sequence_dir(tmp_path / "a", name)
        assert len(loaded.frames) == len(seq)
        np.testing.assert_array_equal(loaded.boxes, seq.boxes)
        np.testing.assert_array_equal(loaded.attributes["full_occlusion"], seq.full_occlusion)
        np.testing.assert_array_equal(loaded.attributes["out_of_view"], seq.out_of_view)

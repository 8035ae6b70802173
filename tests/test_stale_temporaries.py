"""Temporaries of killed runs: `track --render` and `synth` killed with SIGKILL leave hidden
temporaries that the next run deletes; a partial `synth` dataset is refused by `eval`; only
temporaries of a dead process of this host are ever deleted."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from longtrack.cli import main
from longtrack.fileio import clean_stale_temporaries, is_stale_temporary, temporary_prefix
from longtrack.video import VideoWriter

# `longtrack track` with kcf slowed to 0.2 s a frame (argv[1:] are the command's arguments).
SLOW_TRACK = r"""
import sys, time
from longtrack import registry
from longtrack.cli import main
from longtrack.trackers.opencv_trackers import KCFTracker

class SlowKCF(KCFTracker):
    def _track(self, frame):
        time.sleep(0.2)
        return super()._track(frame)

registry.tracker_names()
registry._REGISTRY["kcf"] = registry.TrackerSpec("kcf", "__main__:SlowKCF", "test double")
sys.exit(main(sys.argv[1:]))
"""


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def _kill_when(proc: subprocess.Popen, found, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not found() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    assert found(), "the run never wrote its temporary"
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _hidden_temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*.tmp")]


def test_only_dead_processes_temporaries_of_this_host_are_deleted(tmp_path):
    dead = temporary_prefix("out.csv").replace(f".{os.getpid()}-", f".{_dead_pid()}-") + "abc.tmp"
    live = temporary_prefix("out.csv") + "def.tmp"
    elsewhere = f".out.csv.{_dead_pid()}-another_host.ghi.tmp"
    other_name = temporary_prefix("x.csv").replace(f".{os.getpid()}-", f".{_dead_pid()}-") + "jkl.tmp"
    for name in (dead, live, elsewhere, other_name):
        (tmp_path / name).write_text("partial")
    assert is_stale_temporary(tmp_path / dead) and not is_stale_temporary(tmp_path / live)
    assert clean_stale_temporaries(tmp_path, "out.csv") == [tmp_path / dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live, elsewhere, other_name])
    assert clean_stale_temporaries(tmp_path) == [tmp_path / other_name]


def test_a_killed_render_leaves_a_temporary_that_the_next_run_deletes(tmp_path, capsys):
    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, 20, (64, 48)) as writer:
        for i in range(40):
            frame = np.full((48, 64, 3), 30, np.uint8)
            frame[10:30, 10 + i // 2:30 + i // 2] = 220
            writer.write(frame)
    out = tmp_path / "out"
    out.mkdir()
    argv = ["track", str(clip), "--box", "10,10,20,20", "--tracker", "kcf", "--render", str(out / "x.mp4")]
    proc = subprocess.Popen([sys.executable, "-c", SLOW_TRACK, *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _kill_when(proc, lambda: bool(list(out.glob(".x.mp4.*.tmp"))))
    assert not (out / "x.mp4").exists() and len(list(out.glob(".x.mp4.*.tmp"))) == 1
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == ["x.mp4"]  # the killed run's temporary is gone


def test_a_killed_synth_is_refused_by_eval_and_cleaned_by_the_rerun(tmp_path, capsys):
    data = tmp_path / "data"
    argv = ["synth", "--preset", "mini", "--split", "test", "--num", "3", "--num-frames", "300",
            "--out", str(data)]
    proc = subprocess.Popen([sys.executable, "-m", "longtrack", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _kill_when(proc, lambda: data.is_dir() and any(p.is_dir() for p in _hidden_temporaries(data)))
    assert _hidden_temporaries(data)
    eval_argv = ["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(data),
                 "--out", str(tmp_path / "results")]
    assert main(eval_argv) == 1
    err = capsys.readouterr().err
    assert "list.txt" in err and "stopped before it finished" in err  # not a smaller dataset that looks whole
    assert main(argv) == 0
    assert _hidden_temporaries(data) == []
    assert len((data / "list.txt").read_text().split()) == 3
    assert main(eval_argv + ["--sequences", (data / "list.txt").read_text().split()[0]]) == 0


def test_a_killed_eval_run_leaves_no_temporaries_behind(tmp_path):
    # The runner sweeps its folder at start: a temporary of a dead writer (e.g. a result file
    # whose process was killed between write and rename) disappears.
    folder = tmp_path / "kcf"
    folder.mkdir()
    stale = folder / (temporary_prefix("seq.txt").replace(f".{os.getpid()}-", f".{_dead_pid()}-") + "x.tmp")
    stale.write_text("1,2,3,4\n")
    from longtrack.datasets import Sequence
    from longtrack.evaluation.runner import run_tracker_on_dataset

    frame = tmp_path / "f.png"
    import cv2

    cv2.imwrite(str(frame), np.zeros((20, 20, 3), np.uint8))
    seq = Sequence("seq", [frame, frame], np.tile([2.0, 2.0, 8.0, 8.0], (2, 1)), np.zeros(2, bool))
    assert run_tracker_on_dataset("kcf", "synthetic", [seq], tmp_path, progress=False).ok
    assert not stale.exists()


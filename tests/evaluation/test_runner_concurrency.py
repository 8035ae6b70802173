"""``longtrack eval`` runs that share a result folder: two real processes started together never
mix two models nor track a sequence twice; a failed start locks nothing; ``--name`` stays
inside ``--out``; claims of dead runs are taken over."""
import json
import os
import subprocess
import sys
import time

import pytest

from longtrack.cli import main
from longtrack.datasets import load_dataset
from longtrack.evaluation import claims
from longtrack.evaluation.result_formats import expected_result_files
from longtrack.evaluation.run_record import read_record
from longtrack.evaluation.runner import run_tracker_on_dataset
from longtrack.synth import make_sequence, write_lasot

NUM_SEQUENCES = 4

# Starts `longtrack eval` (argv[3:]) with kcf and csrt slowed to 10 ms a frame, once the test
# has seen both processes ready (argv[1] written) and written the go file (argv[2]).
RACER = r"""
import pathlib, sys, time
from longtrack import registry
from longtrack.cli import main
from longtrack.trackers.opencv_trackers import CSRTTracker, KCFTracker

class SlowKCF(KCFTracker):
    def _track(self, frame):
        time.sleep(0.01)
        return super()._track(frame)

class SlowCSRT(CSRTTracker):
    def _track(self, frame):
        time.sleep(0.01)
        return super()._track(frame)

registry.tracker_names()
registry._REGISTRY["kcf"] = registry.TrackerSpec("kcf", "__main__:SlowKCF", "test double")
registry._REGISTRY["csrt"] = registry.TrackerSpec("csrt", "__main__:SlowCSRT", "test double")
pathlib.Path(sys.argv[1]).touch()
while not pathlib.Path(sys.argv[2]).exists():
    time.sleep(0.002)
sys.exit(main(sys.argv[3:]))
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mini4")
    for i in range(NUM_SEQUENCES):
        write_lasot(make_sequence("mini", "test", i, size=(128, 96), num_frames=60), folder)
    return folder


@pytest.fixture(scope="module")
def sequences(root):
    return load_dataset("synthetic", root, progress=False)


@pytest.fixture(scope="module")
def references(tmp_path_factory, sequences):
    out = tmp_path_factory.mktemp("references")
    for tracker in ("kcf", "csrt"):
        assert run_tracker_on_dataset(tracker, "synthetic", sequences, out, progress=False).ok
    return {t: _content(out / t, sequences) for t in ("kcf", "csrt")}


def _content(folder, sequences):
    return {p.name: p.read_bytes() for s in sequences for p in expected_result_files("synthetic", folder, s)
            if "time" not in p.name and p.exists()}


def _race(tmp_path, root, *trackers, name="shared"):
    """Start one `eval` process per tracker, released together; returns their results."""
    go = tmp_path / "go"
    procs, ready = [], []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for i, tracker in enumerate(trackers):
        ready.append(tmp_path / f"ready-{i}")
        argv = ["eval", "--tracker", tracker, "--dataset", "synthetic", "--root", str(root),
                "--out", str(tmp_path / "out"), "--name", name]
        procs.append(subprocess.Popen([sys.executable, "-c", RACER, str(ready[-1]), str(go), *argv],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, out, err))
    return results


def _tracked(stdout: str) -> int:
    line = next(line for line in stdout.splitlines() if "sequence(s) tracked" in line)
    return int(line.split(": ")[1].split()[0])


def test_two_models_started_together_never_mix(tmp_path, root, sequences, references):
    (kcf_code, _, kcf_err), (csrt_code, _, csrt_err) = _race(tmp_path, root, "kcf", "csrt")
    assert sorted([kcf_code, csrt_code]) == [0, 1], (kcf_err, csrt_err)
    winner, loser_err = ("kcf", csrt_err) if kcf_code == 0 else ("csrt", kcf_err)
    assert "holds results of tracker" in loser_err and loser_err.count("\n") == 1
    folder = tmp_path / "out" / "shared"
    assert read_record(folder)["tracker"] == winner
    assert _content(folder, sequences) == references[winner]  # every file is the winner's


def test_two_identical_runs_share_the_work(tmp_path, root, sequences, references):
    results = _race(tmp_path, root, "kcf", "kcf")
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    assert sum(_tracked(out) for _, out, _ in results) == NUM_SEQUENCES  # each sequence tracked once
    folder = tmp_path / "out" / "shared"
    assert _content(folder, sequences) == references["kcf"]
    assert not (folder / claims.CLAIMS_DIR).exists()  # every claim released


def test_a_failed_start_writes_no_record_and_the_right_rerun_works(tmp_path, root, sequences, capsys):
    argv = ["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(root), "--out", str(tmp_path),
            "--sequences", sequences[0].name]
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    assert main(argv + ["--weights", str(garbage)]) == 1
    assert "uses no weights" in capsys.readouterr().err
    for workers in ("1", "2"):  # in this process, and in a worker process before any sequence
        assert main(argv + ["--option", "no_such_option=1", "--workers", workers]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot build tracker kcf" in err and "no_such_option" in err
    assert read_record(tmp_path / "kcf") is None
    assert main(argv) == 0, capsys.readouterr().err  # the corrected command is not refused


def test_a_record_of_a_finished_run_beside_no_results_locks_nothing(tmp_path, root, sequences):
    folder = tmp_path / "kcf"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = {"tracker": "csrt", "dataset": "synthetic", "weights": {"kind": "weights-free"}, "options": {},
              "owner": {"host": os.uname().nodename, "pid": int(dead.stdout)}}
    (folder / ".longtrack-run.json").write_text(json.dumps(record))
    assert run_tracker_on_dataset("kcf", "synthetic", sequences[:1], tmp_path, progress=False).ok
    assert read_record(folder)["tracker"] == "kcf"


@pytest.mark.parametrize("name", ["../../x", "..", "a/b", "x\ny", " "])
def test_name_must_stay_inside_out(tmp_path, root, capsys, name):
    out = tmp_path / "a" / "b"
    assert main(["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(root), "--out", str(out),
                 "--name", name]) == 1
    assert "--name must be one folder name" in capsys.readouterr().err
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_claims_of_live_runs_hold_and_of_dead_runs_are_taken_over(tmp_path, monkeypatch):
    folder = tmp_path / claims.CLAIMS_DIR
    folder.mkdir()
    other_host = folder / "seq-a.0"
    other_host.write_text(json.dumps({"host": "another-node", "pid": 1}))
    assert "another-node" in claims.try_claim(tmp_path, "seq-a")  # fresh: its owner may be tracking
    old = time.time() - claims.STALE_AFTER_S - 5
    os.utime(other_host, (old, old))
    taken = claims.try_claim(tmp_path, "seq-a")  # untouched for too long: its run was killed
    assert isinstance(taken, claims.Claim) and taken.path.name == "seq-a.1"
    assert str(os.getpid()) in claims.try_claim(tmp_path, "seq-a")  # now held by this live process
    taken.release()
    assert not folder.exists()
    assert claims.claim_stem("a/b") != claims.claim_stem("a_b")

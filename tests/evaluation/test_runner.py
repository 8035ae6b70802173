"""``longtrack eval`` / ``run_tracker_on_dataset``: results, resume after an interrupt or a kill,
never a half-written file, failures, shards and worker processes."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from longtrack import registry
from longtrack.cli import main
from longtrack.datasets import Sequence, load_dataset
from longtrack.errors import LongtrackError
from longtrack.evaluation.result_formats import expected_result_files, read_sequence_results
from longtrack.evaluation.runner import is_complete, run_tracker_on_dataset
from longtrack.evaluation.scoring import score_results
from longtrack.evaluation.sharding import parse_shard, select_shard
from longtrack.evaluation.track_sequence import build_tracker, resolve_weights
from longtrack.synth import make_sequence, write_lasot
from longtrack.trackers.opencv_trackers import KCFTracker

NUM_FRAMES = 60
INTERRUPT_FRAME = 23


@pytest.fixture(scope="module")
def mini_root(tmp_path_factory):
    """Two short ``mini`` sequences in the LaSOT layout (each has an exit and a re-entry)."""
    root = tmp_path_factory.mktemp("mini")
    for i in range(2):
        write_lasot(make_sequence("mini", "test", i, size=(160, 120), num_frames=NUM_FRAMES), root)
    return root


@pytest.fixture(scope="module")
def sequences(mini_root):
    return load_dataset("synthetic", mini_root, progress=False)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, sequences):
    """An uninterrupted single-process kcf run."""
    out = tmp_path_factory.mktemp("reference")
    summary = run_tracker_on_dataset("kcf", "synthetic", sequences, out, progress=False)
    assert summary.ok and sorted(summary.done) == sorted(s.name for s in sequences)
    return out / "kcf"


def _content(tracker_dir, sequences, dataset="synthetic"):
    """Every result file except the time logs (timings differ from run to run)."""
    return {p.name: p.read_bytes() for s in sequences for p in expected_result_files(dataset, tracker_dir, s)
            if "time" not in p.name}


def _leftovers(folder):
    return [p.name for p in folder.rglob("*") if p.name.endswith(".tmp")]


class InterruptingKCF(KCFTracker):
    """KCF that raises ``ERROR`` on the ``INTERRUPT_FRAME``-th frame of the second sequence."""

    ERROR = KeyboardInterrupt
    initialized = 0

    def _initialize(self, frame, box):
        type(self).initialized += 1
        self._frame = 0
        super()._initialize(frame, box)

    def _track(self, frame):
        self._frame += 1
        if type(self).initialized == 2 and self._frame == INTERRUPT_FRAME:
            raise self.ERROR("stopped by the test")
        return super()._track(frame)


class FailingKCF(InterruptingKCF):
    ERROR = RuntimeError


def _swap_kcf(monkeypatch, cls):
    cls.initialized = 0
    spec = registry.TrackerSpec("kcf", f"{__name__}:{cls.__name__}", "test double")
    registry.tracker_names()  # load the built-ins first
    monkeypatch.setitem(registry._REGISTRY, "kcf", spec)


def test_eval_writes_results_frame_zero_and_resumes(tmp_path, mini_root, sequences, reference, capsys):
    assert main(["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(mini_root),
                 "--out", str(tmp_path)]) == 0
    assert "2 sequence(s) tracked" in capsys.readouterr().out
    for seq in sequences:
        res = read_sequence_results("synthetic", tmp_path / "kcf", seq)
        assert res.boxes.shape == (NUM_FRAMES, 4)
        np.testing.assert_allclose(res.boxes[0], seq.boxes[0], atol=0.01)  # frame 0 = the given box
        assert res.scores[0] == 1.0 and res.present[0]
        assert np.all(res.times > 0)
    assert _content(tmp_path / "kcf", sequences) == _content(reference, sequences)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "kcf").iterdir()}
    assert main(["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(mini_root),
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "0 sequence(s) tracked" in out and "2 already complete" in out
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "kcf").iterdir()} == before


def test_interrupt_mid_sequence_leaves_nothing_then_resume_equals_uninterrupted(
        tmp_path, monkeypatch, sequences, reference):
    _swap_kcf(monkeypatch, InterruptingKCF)
    with pytest.raises(KeyboardInterrupt):
        run_tracker_on_dataset("kcf", "synthetic", sequences, tmp_path, progress=False)
    first, second = sequences
    assert is_complete("synthetic", tmp_path / "kcf", first)
    assert not any(p.exists() for p in expected_result_files("synthetic", tmp_path / "kcf", second))
    assert _leftovers(tmp_path) == []
    monkeypatch.undo()
    summary = run_tracker_on_dataset("kcf", "synthetic", sequences, tmp_path, progress=False)
    assert summary.skipped == [first.name] and summary.done == [second.name]
    assert _content(tmp_path / "kcf", sequences) == _content(reference, sequences)
    resumed = score_results("synthetic", sequences, tmp_path / "kcf", progress=False)
    uninterrupted = score_results("synthetic", sequences, reference, progress=False)
    for key in ("success_auc", "precision", "norm_precision"):
        assert resumed[key] == uninterrupted[key]
    assert resumed["presence"] == uninterrupted["presence"] and resumed["longterm"] == uninterrupted["longterm"]


KILL_SCRIPT = """
import os, signal, sys
from longtrack.trackers import opencv_trackers
calls = {"init": 0, "frame": 0}
original_init, original_track = opencv_trackers.KCFTracker._initialize, opencv_trackers.KCFTracker._track
def init(self, frame, box):
    calls["init"] += 1; calls["frame"] = 0
    original_init(self, frame, box)
def track(self, frame):
    calls["frame"] += 1
    if calls["init"] == 2 and calls["frame"] == %d:
        os.kill(os.getpid(), signal.SIGKILL)
    return original_track(self, frame)
opencv_trackers.KCFTracker._initialize, opencv_trackers.KCFTracker._track = init, track
from longtrack.cli import main
sys.exit(main(sys.argv[1:]))
""" % INTERRUPT_FRAME


def test_killed_eval_resumes_to_the_uninterrupted_result(tmp_path, mini_root, sequences, reference):
    args = ["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(mini_root), "--out", str(tmp_path)]
    killed = subprocess.run([sys.executable, "-c", KILL_SCRIPT, *args], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    first, second = sequences
    assert is_complete("synthetic", tmp_path / "kcf", first)
    assert not any(p.exists() for p in expected_result_files("synthetic", tmp_path / "kcf", second))
    assert _leftovers(tmp_path) == []
    assert main(args) == 0
    assert _content(tmp_path / "kcf", sequences) == _content(reference, sequences)
    resumed = score_results("synthetic", sequences, tmp_path / "kcf", progress=False)
    uninterrupted = score_results("synthetic", sequences, reference, progress=False)
    assert resumed["per_sequence"] == uninterrupted["per_sequence"]
    assert resumed["presence"] == uninterrupted["presence"] and resumed["longterm"] == uninterrupted["longterm"]


def test_tracker_error_fails_only_that_sequence_and_exits_nonzero(tmp_path, monkeypatch, mini_root, sequences,
                                                                    capsys):
    _swap_kcf(monkeypatch, FailingKCF)
    code = main(["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(mini_root),
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err
    first, second = sequences
    assert code == 1
    assert f"frame {INTERRUPT_FRAME}: RuntimeError: stopped by the test" in err
    assert f"1 sequence(s) failed and were not written: {second.name}" in err
    assert is_complete("synthetic", tmp_path / "kcf", first)
    assert not any(p.exists() for p in expected_result_files("synthetic", tmp_path / "kcf", second))


def test_shards_partition_and_together_equal_the_full_run(tmp_path, mini_root, sequences, reference):
    for shard in ("0/2", "1/2"):
        assert main(["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(mini_root),
                     "--out", str(tmp_path), "--shard", shard]) == 0
    assert _content(tmp_path / "kcf", sequences) == _content(reference, sequences)
    names = [f"seq-{i}" for i in range(7)]
    items = [Sequence(n, [], np.ones((2, 4)), np.zeros(2)) for n in reversed(names)]
    parts = [[s.name for s in select_shard(items, (i, 3))] for i in range(3)]
    assert parts == [[s.name for s in select_shard(list(reversed(items)), (i, 3))] for i in range(3)]
    assert sorted(sum(parts, [])) == sorted(names)
    assert parse_shard(" 2 / 3 ") == (2, 3)
    for bad in ("3/3", "1", "-1/2", "0/0", "a/b"):
        with pytest.raises(LongtrackError, match="shard"):
            parse_shard(bad)


def test_two_workers_equal_one(tmp_path, sequences, reference):
    summary = run_tracker_on_dataset("kcf", "synthetic", sequences, tmp_path, workers=2, progress=False)
    assert summary.ok and sorted(summary.done) == sorted(s.name for s in sequences)
    assert _content(tmp_path / "kcf", sequences) == _content(reference, sequences)


def test_other_model_in_the_folder_is_refused(tmp_path, sequences, reference):
    run_tracker_on_dataset("kcf", "synthetic", sequences[:1], tmp_path, progress=False)
    with pytest.raises(LongtrackError, match="holds results of tracker 'kcf', not 'csrt'"):
        run_tracker_on_dataset("csrt", "synthetic", sequences, tmp_path, name="kcf", progress=False)


def _in_memory(seq, dataset):
    """``seq`` as a benchmark of another format (frames decoded from the mini dataset)."""
    n = len(seq)
    labelled = np.arange(n) % 10 == 0 if dataset == "oxuva" else None
    meta = {}
    if dataset == "oxuva":
        w, h = seq.image_size
        b = seq.boxes
        rel = np.column_stack([b[:, 0] / w, (b[:, 0] + b[:, 2]) / w, b[:, 1] / h, (b[:, 1] + b[:, 3]) / h])
        rel[~labelled] = np.nan
        meta = {"video": "vid" + seq.name[-1], "object": "0", "init_frame": 100, "relative_boxes": rel}
    return Sequence(seq.name, seq.frames, seq.boxes, seq.absent, labelled=labelled, image_size=seq.image_size,
                    meta=meta)


@pytest.mark.parametrize("dataset", ["got10k", "votlt2019", "oxuva"])
def test_other_benchmark_formats_written_and_scored(tmp_path, sequences, reference, dataset):
    seqs = [_in_memory(s, dataset) for s in sequences]
    summary = run_tracker_on_dataset("kcf", dataset, seqs, tmp_path, progress=False)
    assert summary.ok
    for seq in seqs:
        assert is_complete(dataset, tmp_path / "kcf", seq)
        res = read_sequence_results(dataset, tmp_path / "kcf", seq)
        ref = read_sequence_results("synthetic", reference, seq)
        tracked = res.present if dataset in ("votlt2019", "oxuva") else np.ones(len(seq), bool)
        tracked[0] = dataset == "got10k"  # VOT and OxUvA write no box for the init frame
        np.testing.assert_allclose(res.boxes[tracked], ref.boxes[tracked], atol=1e-3)
    if dataset == "oxuva":  # every frame after init_frame has a prediction row
        rows = (tmp_path / "kcf" / f"{seqs[0].name}.csv").read_text().splitlines()
        assert [int(r.split(",")[2]) for r in rows] == list(range(101, 100 + NUM_FRAMES))
    scores = score_results(dataset, seqs, tmp_path / "kcf", progress=False)
    assert {"got10k": "ao", "votlt2019": "f_score", "oxuva": "max_gm"}[dataset] in scores


class RecordingFactory:
    def __init__(self, weights=None, device="cpu"):
        self.weights = weights


def test_untrained_bypasses_shipped_weights(monkeypatch):
    spec = registry.TrackerSpec("learned", f"{__name__}:RecordingFactory", "paper", needs_weights=True)
    monkeypatch.setattr(registry.TrackerSpec, "weights_path", lambda self: "/shipped.pt")
    assert build_tracker(spec, None, "cpu").weights == "/shipped.pt"
    assert build_tracker(spec, "none", "cpu").weights is None
    assert build_tracker(spec, "mine.pt", "cpu").weights == "mine.pt"
    assert resolve_weights(spec, "None") is None and resolve_weights(spec, None) == "/shipped.pt"


def test_missing_frames_is_a_failure_not_a_crash(tmp_path):
    seq = Sequence("no-images", [], np.tile([10.0, 10, 20, 20], (5, 1)), np.zeros(5))
    summary = run_tracker_on_dataset("kcf", "synthetic", [seq], tmp_path, progress=False)
    assert "no frame images" in summary.failed["no-images"] and not summary.done
    assert os.listdir(tmp_path / "kcf") == [".longtrack-run.json"]


SLOW_TRACKER = '''
import os, time
from longtrack.trackers.opencv_trackers import KCFTracker

class SlowKCF(KCFTracker):
    def _initialize(self, frame, box):
        with open(os.path.join(os.environ["PID_DIR"], str(os.getpid())), "w"):
            pass
        super()._initialize(frame, box)

    def _track(self, frame):
        time.sleep(0.2)
        return super()._track(frame)
'''

RUN_SLOW = """
import sys
from longtrack import registry
from longtrack.datasets import load_dataset
from longtrack.evaluation.runner import run_tracker_on_dataset
registry.tracker_names()
registry.register_tracker(registry.TrackerSpec("slow-kcf", "slow_tracker:SlowKCF", "test double"))
run_tracker_on_dataset("slow-kcf", "synthetic", load_dataset("synthetic", sys.argv[1]), sys.argv[2], workers=2,
                       progress=False)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_stop_when_the_run_is_killed(tmp_path, mini_root, sequences):
    import time

    (tmp_path / "slow_tracker.py").write_text(SLOW_TRACKER)
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    env = {**os.environ, "PID_DIR": str(pid_dir),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen([sys.executable, "-c", RUN_SLOW, str(mini_root), str(tmp_path / "out")], env=env)
    deadline = time.monotonic() + 90
    while len(os.listdir(pid_dir)) < 2 and time.monotonic() < deadline and parent.poll() is None:
        time.sleep(0.2)
    workers = [int(p) for p in os.listdir(pid_dir)]
    assert len(workers) == 2, "both workers should have started a sequence"
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), "orphaned workers kept tracking"
    out = tmp_path / "out" / "slow-kcf"
    assert not any(p.exists() for s in sequences for p in expected_result_files("synthetic", out, s))


class ShiftedKCF(KCFTracker):
    """KCF whose boxes are moved right by the ``shift`` option (to see options arrive)."""

    def __init__(self, weights=None, device="cpu", shift=0.0):
        super().__init__()
        self.shift = shift

    def _track(self, frame):
        pred = super()._track(frame)
        x, y, w, h = pred.box
        return type(pred)((x + self.shift, y, w, h), pred.score, pred.present)


def test_options_reach_the_tracker_and_a_folder_keeps_one_variant(tmp_path, monkeypatch, mini_root, sequences,
                                                                   reference, capsys):
    registry.tracker_names()
    monkeypatch.setitem(registry._REGISTRY, "kcf", registry.TrackerSpec("kcf", f"{__name__}:ShiftedKCF", "test"))
    argv = ["eval", "--tracker", "kcf", "--dataset", "synthetic", "--root", str(mini_root), "--out", str(tmp_path)]
    assert main(argv + ["--option", "shift=5", "--name", "kcf-shift5"]) == 0
    ref = read_sequence_results("synthetic", reference, sequences[0])
    res = read_sequence_results("synthetic", tmp_path / "kcf-shift5", sequences[0])
    np.testing.assert_allclose(res.boxes[1:, 0] - ref.boxes[1:, 0], 5.0, atol=1e-3)
    with pytest.raises(LongtrackError, match="holds results of options"):
        run_tracker_on_dataset("kcf", "synthetic", sequences, tmp_path, name="kcf-shift5", options={"shift": 2},
                               progress=False)
    for bad in ("shift", "=5", "a b=1"):
        assert main(argv + ["--option", bad]) == 1
        assert "--option must be KEY=VALUE" in capsys.readouterr().err

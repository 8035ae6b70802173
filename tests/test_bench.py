"""``longtrack bench``: its protocol (phases, repeats, spread, load warning, threads) and its
output (table and JSON), on a few frames. Speed itself is never asserted."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

from longtrack.benchmarking import (RepeatTiming, load_average, load_warning, sequence_clip, summarize,
                                    supports_sizes, synthetic_clip, time_repeat)
from longtrack.cli import main
from longtrack.commands.bench import default_trackers, plan_jobs, WRAPPER_FALLBACK_LOCAL
from longtrack.contract import Prediction
from longtrack.errors import LongtrackError
from longtrack.registry import get_tracker_spec
from cli_helpers import run_cli

NANOTRACK = Path(__file__).resolve().parents[1] / ".." / "shared" / "models" / "nanotrack-v2"
TINY = ["--frames", "3", "--repeats", "1", "--warmup", "1", "--frame-size", "160x120"]


class PhasedTracker:
    """Reports the phases it is told to, one per track() call."""

    def __init__(self, phases):
        self.phases, self.calls = list(phases), 0

    def initialize(self, frame, box):
        self.calls = 0

    def track(self, frame):
        self.last_phase = self.phases[self.calls]
        self.calls += 1
        return Prediction((0, 0, 1, 1), 1.0, True)


class PlainTracker(PhasedTracker):
    def track(self, frame):
        return Prediction((0, 0, 1, 1), 1.0, True)


def test_track_time_is_split_by_the_phase_the_tracker_reports():
    clip = synthetic_clip(3, (96, 72))
    assert len(clip.frames) == 4  # frame 0 initialises, 3 are timed
    timing = time_repeat(PhasedTracker(["local", "global", "local"]), clip)
    assert timing.frames == 3 and timing.init_seconds > 0 and timing.seconds > 0
    assert {name: frames for name, (frames, _) in timing.phases.items()} == {"local": 2, "global": 1}
    assert np.isclose(sum(seconds for _, seconds in timing.phases.values()), timing.seconds)
    assert time_repeat(PlainTracker([]), clip).phases == {}  # no attribute: no phases


def test_summary_is_the_median_of_the_repeats_with_its_spread():
    repeats = [RepeatTiming(0.001 * k, 10, 10 / fps, {"local": (8, 8 / (2 * fps)), "global": (2, 2 / (fps / 2))})
               for k, fps in zip((3, 1, 2), (100.0, 50.0, 200.0))]
    fps, init_ms, phases = summarize(repeats)
    assert (fps.median, fps.low, fps.high, fps.count) == pytest.approx((100.0, 50.0, 200.0, 3))
    assert fps.q1 == pytest.approx(75.0) and fps.q3 == pytest.approx(150.0)
    assert init_ms.median == pytest.approx(2.0)
    assert phases["local"].fps.median == pytest.approx(200.0) and phases["local"].frames == 8
    assert phases["global"].fps.median == pytest.approx(50.0) and phases["global"].frames == 2


def test_load_warning_above_one_per_core(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (2.5, 1.0, 0.5))
    assert load_average() == (2.5, 1.0, 0.5)
    assert "2.50 is above 1 per core (2 cores)" in load_warning(load_average(), 2)
    assert load_warning(load_average(), 4) is None
    assert load_warning((2.0, 0.0, 0.0), 2) is None  # exactly one per core is still fine
    assert load_warning(None, 2) is None


def test_classic_lt_and_tanet_report_local_then_global():
    clip = synthetic_clip(2, (160, 120))
    for name in ("classic-lt", "tanet:kcf"):
        tracker = get_tracker_spec(name).build()
        tracker.initialize(clip.frames[0], clip.box)
        tracker.track(clip.frames[1])
        assert tracker.last_phase == "local", name
        tracker.state.mode = "global"  # as after beta2 low frames: the next frame re-detects
        tracker.track(clip.frames[2])
        assert tracker.last_phase == "global", name


def test_every_registered_tracker_is_benched_by_default_tanet_included():
    names = default_trackers()
    assert not any(n.endswith(":*") for n in names)
    tanet = [n for n in names if n.split(":")[0] == "tanet"]
    assert len(tanet) == 1 and tanet[0] in ("tanet", f"tanet:{WRAPPER_FALLBACK_LOCAL}")
    get_tracker_spec(tanet[0])  # a real tracker name
    for name in ("classic-lt", "csrt", "procontext", "globaltrack", "dmtrack", "gtelt", "nanotrack"):
        assert name in names


class _Args:
    device, bf16, threads, warmup, paper_frames = "cpu", False, 1, 2, 4


def test_nanotrack_is_skipped_with_a_line_without_weights_and_learned_trackers_get_sizes():
    clip = ("synthetic", 30, (160, 120))
    jobs, skipped = plan_jobs(["nanotrack", "kcf", "procontext"], ["shipped", "paper"], {}, _Args, clip)
    assert [(j.tracker, j.size) for j in jobs] == [("kcf", "default"), ("procontext", "shipped"),
                                                  ("procontext", "paper")]
    assert jobs[2].clip == ("synthetic", 4, (160, 120))  # paper size times --paper-frames
    assert len(skipped) == 1 and "nanotrack" in skipped[0] and "--weights nanotrack=DIR" in skipped[0]
    jobs, skipped = plan_jobs(["nanotrack"], ["shipped"], {"nanotrack": "DIR"}, _Args, clip)
    assert [(j.tracker, j.weights) for j in jobs] == [("nanotrack", "DIR")] and not skipped
    assert supports_sizes("procontext") and not supports_sizes("kcf")


def test_bench_writes_the_table_and_json_on_the_threads_asked(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    out = tmp_path / "bench.json"
    code, stdout, stderr = run_cli(capsys, "bench", "--trackers", "kcf", "classic-lt", "--threads", "3",
                                   *TINY, "--json", out)
    assert code == 0, stderr
    assert "threads: 3" in stdout and "load average (1, 5, 15 min) at start: 9.00 9.00 9.00 on 2 cores" in stdout
    assert "warning: load average 9.00 is above 1 per core (2 cores)" in stderr
    rows = [line.split() for line in stdout.splitlines() if line.split()[:1] in (["kcf"], ["classic-lt"])]
    assert [r[0] for r in rows] == ["kcf", "classic-lt"] and all(r[3] == "3/3" for r in rows)
    payload = json.loads(out.read_text())
    assert payload["threads"] == 3 and payload["repeats"] == 1 and payload["warmup"] == 1
    assert payload["load_average"] == {"start": [9.0, 9.0, 9.0], "end": [9.0, 9.0, 9.0], "cores": 2}
    assert len(payload["load_warnings"]) == 2 and payload["failed"] == []
    kcf, classic = payload["results"]
    assert kcf["threads"] == {"torch": 3, "opencv": 3}  # as the measuring process reported them
    assert kcf["frames"] == 3 and len(kcf["repeats"]) == 1 and kcf["fps"]["count"] == 1
    assert kcf["fps"]["median"] == pytest.approx(kcf["repeats"][0]["fps"])
    assert kcf["phases"] == {} and set(classic["phases"]) <= {"local", "global"}
    assert sum(p["frames"] for p in classic["phases"].values()) == 3


def test_peer_ratios_are_the_tracker_median_over_the_peer_median_of_the_same_rounds(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code, stdout, stderr = run_cli(capsys, "bench", "--trackers", "kcf", "--peer", "--frames", "3",
                                   "--repeats", "2", "--warmup", "1", "--frame-size", "160x120", "--json", out)
    assert code == 0, stderr
    assert "peer nanotrack: skipped" in stdout and "x csrt" in stdout
    payload = json.loads(out.read_text())
    (kcf,) = payload["results"]
    assert set(kcf["peers"]) == {"csrt"}
    csrt = kcf["peers"]["csrt"]
    assert csrt["fps"]["count"] == 2  # one peer repeat after each of the tracker's
    assert csrt["ratio"] == pytest.approx(kcf["fps"]["median"] / csrt["fps"]["median"])
    assert [p["tracker"] for p in payload["peers"]] == ["csrt"]
    assert f"{csrt['ratio']:.2f}" in next(line for line in stdout.splitlines() if line.startswith("kcf "))


@pytest.mark.skipif(not NANOTRACK.is_dir(), reason="needs ../shared/models/nanotrack-v2")
def test_nanotrack_peer_runs_with_its_weights(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code, _, stderr = run_cli(capsys, "bench", "--trackers", "kcf", "--peer", "--weights",
                              f"nanotrack={NANOTRACK}", *TINY, "--json", out)
    assert code == 0, stderr
    kcf = json.loads(out.read_text())["results"][0]
    assert set(kcf["peers"]) == {"csrt", "nanotrack"}
    nano = kcf["peers"]["nanotrack"]
    assert nano["ratio"] == pytest.approx(kcf["fps"]["median"] / nano["fps"]["median"])


def test_a_sequence_in_the_lasot_layout_is_a_clip(tmp_path):
    from longtrack.synth import make_sequence, write_lasot

    folder = write_lasot(make_sequence("mini", "test", 0, size=(96, 64), num_frames=60), tmp_path)
    clip = sequence_clip(folder, 4)
    assert len(clip.frames) == 5 and clip.frames[0].shape == (64, 96, 3)
    assert clip.source.endswith("frames 0-4")
    with pytest.raises(LongtrackError, match="groundtruth.txt"):
        sequence_clip(tmp_path, 4)


def test_bench_cli_rejects_bad_sizes_and_repeats(capsys):
    assert main(["bench", "--trackers", "kcf", "--sizes", "huge"]) == 1
    assert "--sizes" in capsys.readouterr().err
    assert main(["bench", "--trackers", "kcf", "--repeats", "0"]) == 1
    assert "--repeats must be 1 or more" in capsys.readouterr().err


def test_bench_with_nothing_to_time_says_why(capsys):
    code, _, err = run_cli(capsys, "bench", "--trackers", "nanotrack")
    assert code == 1 and "nothing to bench: nanotrack: skipped, it ships no weights" in err

import json

import numpy as np

from longtrack.benchmarking import bench_clip, bench_tracker, supports_sizes
from longtrack.cli import main


def test_bench_tracker_reports_consistent_numbers():
    frames, box = bench_clip(8, (160, 120))
    assert len(frames) == 8 and frames[0].shape == (120, 160, 3)
    r = bench_tracker("kcf", frames, box, warmup=2)
    assert r.frames == 5 and r.seconds > 0
    assert np.isclose(r.fps * r.ms_per_frame, 1000.0)
    assert r.size == "default" and r.peak_rss_mb > 0


def test_learned_trackers_take_sizes_and_baselines_do_not():
    assert supports_sizes("procontext")
    assert not supports_sizes("kcf")


def test_bench_cli_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    rc = main(["bench", "--trackers", "kcf", "--frames", "3", "--frame-size", "160x120",
               "--json", str(out)])
    assert rc == 0
    payload = json.loads(out.read_text())
    assert payload["results"][0]["tracker"] == "kcf" and payload["results"][0]["frames"] == 3
    assert payload["machine"]["device"] == "cpu"


def test_bench_cli_rejects_bad_sizes(capsys):
    assert main(["bench", "--trackers", "kcf", "--sizes", "huge"]) == 1
    assert "--sizes" in capsys.readouterr().err

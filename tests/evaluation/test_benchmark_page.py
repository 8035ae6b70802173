"""``longtrack benchmark-page`` on a tiny synthetic set: one table row per tracker, rows kept
across invocations, learned trackers without weights listed, the cached benchmark written once."""
import json
import re

import pytest

from longtrack import registry
from longtrack.cli import main
from longtrack.errors import LongtrackError
from longtrack.evaluation.benchmark_page import parse_weights_options, plan_runs
from longtrack.evaluation.synth_benchmark import SynthBenchmark, default_cache_root, ensure_written

QUICK = ["--num", "2", "--preset", "mini", "--size", "160x120", "--num-frames", "60"]
BENCH_ID = "synth-mini-v{}-160x120-f60"


def _table_rows(page: str) -> dict[str, list[str]]:
    """The main table's rows: tracker -> cells."""
    table = page.split("\n\n")[3]
    lines = [line for line in table.splitlines() if line.startswith("| ")][1:]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


def test_page_has_one_row_per_tracker_and_keeps_rows(tmp_path, capsys, monkeypatch):
    from longtrack.synth import GENERATOR_VERSION

    # A learned tracker whose weights file does not exist, whatever ships today.
    unshipped = registry.TrackerSpec("unshipped", registry.get_tracker_spec("procontext").factory,
                                     "test only", default_weights="not-shipped.pt", needs_weights=True)
    monkeypatch.setitem(registry._REGISTRY, "unshipped", unshipped)

    out = tmp_path / "docs" / "benchmark.md"
    common = ["benchmark-page", "--root", str(tmp_path / "data"), "--results", str(tmp_path / "runs"),
              "--out", str(out), *QUICK]
    assert main([*common, "--trackers", "kcf", "classic-lt", "unshipped", "--no-untrained"]) == 0
    page = out.read_text()
    rows = _table_rows(page)
    assert sorted(rows) == ["classic-lt", "kcf"]
    for cells in rows.values():
        assert cells[0] == "none needed"
        assert all(re.fullmatch(r"[0-9]+\.[0-9]+|-", c) for c in cells[1:]), cells
        assert float(cells[1]) > 0 and float(cells[-1]) > 0  # success AUC and FPS measured
    header = page.split("\n\n")[3].splitlines()[0]
    for column in ("Success AUC", "Precision@20", "TPR", "TNR", "MaxGM", "LT F-score", "Re-detected", "FPS"):
        assert column in header
    assert "`unshipped`: learned tracker that ships no weights" in page
    assert "Not the standard benchmark" in page
    for plot in ("success", "precision", "tpr_tnr", "redetection"):
        assert f"(benchmark/{plot}.png)" in page and (out.parent / "benchmark" / f"{plot}.png").is_file()
    results = tmp_path / "runs" / BENCH_ID.format(GENERATOR_VERSION)
    scores = json.loads((results / "scores.json").read_text())
    assert f"{100 * scores['kcf']['success_auc']:.1f}" == rows["kcf"][1]

    # A second invocation for one tracker re-uses its results and keeps the other row.
    kcf_box = next((results / "kcf").glob("*.txt"))
    mtime = kcf_box.stat().st_mtime_ns
    assert main([*common, "--trackers", "kcf", "--no-untrained"]) == 0
    assert sorted(_table_rows(out.read_text())) == ["classic-lt", "kcf"]
    assert kcf_box.stat().st_mtime_ns == mtime
    assert "--trackers classic-lt kcf --num 2" in out.read_text()  # the command regenerates every row
    assert "`unshipped`: learned tracker that ships no weights" in out.read_text()

    # An incomplete folder is listed, not ranked.
    next((results / "classic-lt").glob("*.txt")).unlink()
    assert main([*common, "--trackers", "kcf", "--no-untrained"]) == 0
    page = out.read_text()
    assert sorted(_table_rows(page)) == ["kcf"]
    assert "`classic-lt`: incomplete (1 of 2 sequences)" in page

    # --no-run tracks nothing: the incomplete row stays incomplete, a new tracker gets no folder.
    assert main([*common, "--trackers", "kcf", "classic-lt", "csrt", "--no-untrained", "--no-run"]) == 0
    assert not (results / "csrt").exists()
    assert "`classic-lt`: incomplete (1 of 2 sequences)" in out.read_text()
    assert sorted(_table_rows(out.read_text())) == ["kcf"]


def test_plan_runs_untrained_rows_and_weights(monkeypatch):
    registry.tracker_names()
    spec = registry.TrackerSpec("learned", "x:y", "paper", needs_weights=True)
    monkeypatch.setitem(registry._REGISTRY, "learned", spec)
    runs, missing = plan_runs(["kcf", "learned"], {}, untrained=True)
    assert [(r.tracker, r.weights, r.folder) for r in runs] == [
        ("kcf", None, "kcf"), ("learned", "none", "learned-untrained")]
    assert "ships no weights" in missing["learned"]
    runs, missing = plan_runs(["learned"], {"learned": "w.pt"}, untrained=False)
    assert [(r.weights, r.folder) for r in runs] == [("w.pt", "learned")] and not missing
    monkeypatch.setattr(registry.TrackerSpec, "weights_path", lambda self: "/shipped.pt")
    runs, missing = plan_runs(["learned"], {}, untrained=True)
    assert [(r.weights, r.folder) for r in runs] == [(None, "learned"), ("none", "learned-untrained")]
    assert parse_weights_options(["a=b.pt", "c=d=e"]) == {"a": "b.pt", "c": "d=e"}
    for bad in (["a"], ["=x"], ["a=x", "a=y"]):
        with pytest.raises(LongtrackError, match="--weights"):
            parse_weights_options(bad)
    with pytest.raises(LongtrackError, match="not in --trackers"):
        plan_runs(["kcf"], {"learned": "w.pt"})


def test_benchmark_cache_written_once_and_version_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    bench = SynthBenchmark(num=2, preset="mini", size=(96, 72), num_frames=60)
    assert default_cache_root(bench) == tmp_path / "cache" / "longtrack" / bench.id
    assert SynthBenchmark().id.startswith("synth-lt-v") and SynthBenchmark().standard
    root = default_cache_root(bench)
    names = ensure_written(bench, root, progress=False)
    assert (root / "list.txt").read_text().split() == names and len(names) == 2
    meta_paths = sorted(root.glob("*/*/meta.json"))
    stamps = [p.stat().st_mtime_ns for p in meta_paths]
    assert ensure_written(SynthBenchmark(1, "mini", (96, 72), 60), root, progress=False) == names[:1]
    assert [p.stat().st_mtime_ns for p in meta_paths] == stamps
    assert (root / "list.txt").read_text().split() == names  # a smaller --num keeps the longer list
    meta = json.loads(meta_paths[0].read_text())
    meta["version"] = "0.0.1"
    meta_paths[0].write_text(json.dumps(meta))
    with pytest.raises(LongtrackError, match="written with version='0.0.1'"):
        ensure_written(bench, root, progress=False)

"""``longtrack benchmark-page`` on a tiny synthetic set: one table row per tracker, rows kept
across invocations (result folders, and rows.json once a folder is gone), learned trackers
without weights listed, the cached benchmark written once."""
import json
import re
import shutil

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
        assert all(re.fullmatch(r"[0-9]+\.[0-9]+|-", c) for c in cells[1:-1]), cells
        assert float(cells[1]) > 0 and float(cells[-2]) > 0  # success AUC and FPS measured
        assert re.fullmatch(r"20[0-9-]+ `.+`", cells[-1]), cells  # scored when, at which commit
    header = page.split("\n\n")[3].splitlines()[0]
    for column in ("Success AUC", "Precision@20", "TPR", "TNR", "MaxGM", "LT F-score", "Re-detected", "FPS",
                   "Scored"):
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

    # An incomplete folder is listed; its kept row stands in for it until forgotten.
    next((results / "classic-lt").glob("*.txt")).unlink()
    assert main([*common, "--trackers", "kcf", "--no-untrained"]) == 0
    page = out.read_text()
    assert _table_rows(page)["classic-lt"][-1].endswith("(kept)")
    assert "`classic-lt`: result folder incomplete (1 of 2 sequences); the table shows its kept row" in page
    assert main([*common, "--trackers", "kcf", "--no-untrained", "--forget", "classic-lt"]) == 0
    page = out.read_text()
    assert sorted(_table_rows(page)) == ["kcf"]
    assert "`classic-lt`: incomplete (1 of 2 sequences)" in page

    # --no-run tracks nothing: the incomplete row stays incomplete, a new tracker gets no folder.
    assert main([*common, "--trackers", "kcf", "classic-lt", "csrt", "--no-untrained", "--no-run"]) == 0
    assert not (results / "csrt").exists()
    assert "`csrt`: no result folder and no kept row" in out.read_text()
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


@pytest.fixture(scope="module")
def first_page(tmp_path_factory):
    """kcf and classic-lt scored once on the tiny set; each test works on a copy."""
    base = tmp_path_factory.mktemp("first-page")
    assert main(["benchmark-page", "--root", str(base / "data"), "--results", str(base / "runs"),
                 "--out", str(base / "docs" / "benchmark.md"), *QUICK,
                 "--trackers", "kcf", "classic-lt", "--no-untrained"]) == 0
    return base


def _copy_of(first_page, tmp_path):
    """The first page's results and docs in ``tmp_path``; the arguments that regenerate it there."""
    from longtrack.synth import GENERATOR_VERSION

    for part in ("runs", "docs"):
        shutil.copytree(first_page / part, tmp_path / part)
    common = ["benchmark-page", "--root", str(first_page / "data"), "--results", str(tmp_path / "runs"),
              "--out", str(tmp_path / "docs" / "benchmark.md"), *QUICK, "--no-untrained", "--no-run"]
    return common, tmp_path / "runs" / BENCH_ID.format(GENERATOR_VERSION), tmp_path / "docs" / "benchmark"


def _section(page: str, title: str) -> str:
    return page.split(f"## {title}\n")[1].split("\n## ")[0]


def test_row_whose_folder_is_gone_is_kept_with_identical_numbers(first_page, tmp_path):
    common, results, plots = _copy_of(first_page, tmp_path)
    before_page = (plots.parent / "benchmark.md").read_text()
    before = json.loads((plots / "rows.json").read_text())
    assert sorted(before["rows"]) == ["classic-lt", "kcf"] and before["benchmark"] == results.name
    assert {"curves", "per_sequence", "presence"} <= set(before["rows"]["kcf"]["scores"])

    shutil.rmtree(results / "kcf")
    assert main([*common, "--trackers", "kcf", "classic-lt"]) == 0
    page = (plots.parent / "benchmark.md").read_text()
    assert not (results / "kcf").exists()  # --no-run tracked nothing
    old, new = _table_rows(before_page), _table_rows(page)
    assert new["kcf"][:-1] == old["kcf"][:-1]  # every number as before
    assert new["kcf"][-1] == old["kcf"][-1] + " (kept)" and not new["classic-lt"][-1].endswith("(kept)")
    assert _section(page, "Success AUC per sequence") == _section(before_page, "Success AUC per sequence")
    assert "Scored this time from their result folders" in page and "`classic-lt`." in page
    date = before["rows"]["kcf"]["scored"]["date"]
    assert "Kept from `benchmark/rows.json`" in page and f"`kcf` ({date}, `" in page
    assert "Without curves" not in page and "(benchmark/success.png)" in page
    assert json.loads((plots / "rows.json").read_text())["rows"]["kcf"] == before["rows"]["kcf"]


def test_kept_row_with_other_weights_is_dropped(first_page, tmp_path, capsys, monkeypatch):
    from longtrack.evaluation.run_record import file_digest

    common, results, plots = _copy_of(first_page, tmp_path)
    weights = tmp_path / "learned.pt"
    weights.write_bytes(b"weights v1")
    spec = registry.TrackerSpec("learned", registry.get_tracker_spec("procontext").factory, "test only",
                                default_weights="learned.pt", needs_weights=True)
    monkeypatch.setitem(registry._REGISTRY, "learned", spec)
    shipped = registry.TrackerSpec.weights_path
    monkeypatch.setattr(registry.TrackerSpec, "weights_path",
                        lambda self: str(weights) if self.name == "learned" else shipped(self))
    kept = json.loads((plots / "rows.json").read_text())
    template = kept["rows"]["kcf"]
    for name, identity in (("learned", {"kind": "file", "name": "learned.pt", "sha256": file_digest(weights)}),
                           ("learned-old", {"kind": "file", "name": "learned.pt", "sha256": "0" * 64}),
                           ("learned-untrained", {"kind": "untrained", "name": None, "sha256": None})):
        kept["rows"][name] = {**template, "record": {**template["record"], "tracker": "learned",
                                                     "weights": identity}}
    (plots / "rows.json").write_text(json.dumps(kept))

    assert main([*common, "--trackers", "kcf", "classic-lt"]) == 0
    assert sorted(_table_rows((plots.parent / "benchmark.md").read_text())) == [
        "classic-lt", "kcf", "learned", "learned-untrained"]
    assert "dropping kept row learned-old" in capsys.readouterr().err
    assert "learned-old" not in json.loads((plots / "rows.json").read_text())["rows"]

    weights.write_bytes(b"weights v2")  # the shipped file is replaced: its kept row goes
    assert main([*common, "--trackers", "kcf", "classic-lt"]) == 0
    assert sorted(_table_rows((plots.parent / "benchmark.md").read_text())) == [
        "classic-lt", "kcf", "learned-untrained"]
    err = capsys.readouterr().err
    assert "dropping kept row learned " in err and "learned.pt is now" in err


def test_forget_drops_a_kept_row(first_page, tmp_path, capsys):
    common, results, plots = _copy_of(first_page, tmp_path)
    shutil.rmtree(results / "kcf")
    assert main([*common, "--trackers", "kcf", "classic-lt", "--forget", "kcf"]) == 0
    page = (plots.parent / "benchmark.md").read_text()
    assert sorted(_table_rows(page)) == ["classic-lt"]
    assert sorted(json.loads((plots / "rows.json").read_text())["rows"]) == ["classic-lt"]
    assert "dropping kept row kcf" in capsys.readouterr().err
    assert main([*common, "--trackers", "kcf", "--forget", "nosuch"]) == 1
    assert "--forget nosuch: no such kept row" in capsys.readouterr().err


def test_row_without_curves_in_tables_not_in_curve_plots(first_page, tmp_path, monkeypatch):
    from longtrack.evaluation import plots as plot_module

    common, results, plots = _copy_of(first_page, tmp_path)
    kept = json.loads((plots / "rows.json").read_text())
    bare = {**kept["rows"]["kcf"], "delays": None}  # as seeded from a page's tables
    bare["scores"] = {k: v for k, v in bare["scores"].items() if k != "curves"}
    kept["rows"]["tables-only"] = bare
    (plots / "rows.json").write_text(json.dumps(kept))
    drawn = []
    real = plot_module.plot_ope
    monkeypatch.setattr(plot_module, "plot_ope", lambda results, *a: drawn.append(sorted(results)) or real(results, *a))

    assert main([*common, "--trackers", "kcf", "classic-lt"]) == 0
    page = (plots.parent / "benchmark.md").read_text()
    assert _table_rows(page)["tables-only"][1:-1] == _table_rows(page)["kcf"][1:-1]
    assert "tables-only" in _section(page, "Success AUC per sequence")
    assert drawn == [["classic-lt", "kcf"]]
    assert "not in the success and precision plots: `tables-only`." in page
    assert "not in the re-detection plot: `tables-only`." in page

    # Only rows without curves: no curve plot at all, the tables and the TPR/TNR plot remain.
    for name in ("kcf", "classic-lt"):
        shutil.rmtree(results / name)
    kept["rows"] = {"tables-only": bare}
    (plots / "rows.json").write_text(json.dumps(kept))
    (plots / "success.png").unlink()
    assert main([*common, "--trackers", "kcf", "classic-lt"]) == 0
    page = (plots.parent / "benchmark.md").read_text()
    assert sorted(_table_rows(page)) == ["tables-only"] and drawn == [["classic-lt", "kcf"]]
    assert "(benchmark/tpr_tnr.png)" in page and "success.png" not in page
    assert not (plots / "success.png").exists()


def test_an_extra_row_runs_a_tracker_with_other_weights_under_its_own_name():
    from longtrack.evaluation.benchmark_page import parse_extra_rows, plan_runs

    extra = parse_extra_rows(["globaltrack-synth=globaltrack@old.pt"], ["globaltrack", "kcf"])
    runs, _ = plan_runs(["globaltrack", "kcf"], {}, untrained=False, extra_rows=extra)
    assert [(r.tracker, r.weights, r.folder) for r in runs][-1] == ("globaltrack", "old.pt", "globaltrack-synth")
    for bad in (["kcf=kcf@x.pt"], ["a=globaltrack"], ["x-untrained=globaltrack@w.pt"]):
        with pytest.raises(LongtrackError):
            parse_extra_rows(bad, ["globaltrack", "kcf"])


def test_the_regenerating_command_keeps_extra_rows_and_wrappers_get_local_weights():
    import argparse

    from longtrack.commands.benchmark_page import _command_line, add_arguments
    from longtrack.evaluation.benchmark_page import plan_runs

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--suite", "real", "--trackers", "globaltrack", "--extra-row",
                              "globaltrack-synth=globaltrack@old.pt"])
    assert "--extra-row globaltrack-synth=globaltrack@old.pt" in _command_line(args, ["globaltrack"])
    runs, _ = plan_runs(["nanotrack", "tanet:nanotrack", "kcf"], {"nanotrack": "nano/"}, untrained=False)
    options = {r.folder: r.options for r in runs}
    assert options == {"nanotrack": {}, "tanet:nanotrack": {"local_weights": "nano/"}, "kcf": {}}

"""``longtrack benchmark-page --suite real`` on a tiny real set of two layouts built in a tmp
folder (a LaSOT-layout clip with target-absent frames, an OTB-layout clip without): one row per
tracker, scored per sequence and averaged, the data and the columns' coverage stated."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from longtrack.cli import main
from longtrack.errors import LongtrackError
from longtrack.evaluation.real_benchmark import DEFAULT_PARTS, load_real_benchmark

BIRD_RANGE = range(125, 195)  # 0-based frames of real-val bird-3, around its labelled full occlusion
CROSSING_FRAMES = 30


def _flags(path: Path) -> list[str]:
    return path.read_text().strip().split(",")


@pytest.fixture(scope="module")
def tiny_real(shared_dir, tmp_path_factory):
    """``lasot/`` (bird-3's frames 126..195, renumbered) and ``otb/`` (Crossing's first 30)."""
    base = tmp_path_factory.mktemp("tiny-real")
    src = shared_dir / "data" / "real-val" / "bird" / "bird-3"
    dst = base / "lasot" / "bird" / "bird-3"
    (dst / "img").mkdir(parents=True)
    for new, old in enumerate(BIRD_RANGE, start=1):
        shutil.copy(src / "img" / f"{old + 1:08d}.jpg", dst / "img" / f"{new:08d}.jpg")
    lines = (src / "groundtruth.txt").read_text().splitlines()
    (dst / "groundtruth.txt").write_text("".join(lines[i] + "\n" for i in BIRD_RANGE))
    for name in ("full_occlusion.txt", "out_of_view.txt"):
        flags = _flags(src / name)
        (dst / name).write_text(",".join(flags[i] for i in BIRD_RANGE) + "\n")
    crossing = shared_dir / "data" / "real" / "Crossing"
    otb = base / "otb" / "Crossing"
    (otb / "img").mkdir(parents=True)
    for i in range(1, CROSSING_FRAMES + 1):
        shutil.copy(crossing / "img" / f"{i:04d}.jpg", otb / "img" / f"{i:04d}.jpg")
    gt = (crossing / "groundtruth_rect.txt").read_text().splitlines()[:CROSSING_FRAMES]
    (otb / "groundtruth_rect.txt").write_text("\n".join(gt) + "\n")
    absent = sum(a == "1" or b == "1" for a, b in zip(*(_flags(dst / n) for n in ("full_occlusion.txt",
                                                                                  "out_of_view.txt"))))
    assert 0 < absent < len(BIRD_RANGE)
    return base, absent


def _page_args(base: Path, tmp_path: Path) -> list[str]:
    return ["benchmark-page", "--suite", "real", "--data", f"lasot={base / 'lasot'}", "--data",
            f"otb={base / 'otb'}", "--results", str(tmp_path / "runs"), "--out",
            str(tmp_path / "docs" / "benchmark-real.md"), "--no-untrained"]


def _table_rows(page: str) -> dict[str, list[str]]:
    table = page.split("## Columns")[0].split("| Tracker |")[1]
    lines = [line for line in table.splitlines() if line.startswith("| ")]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


def test_real_page_scores_two_layouts_per_sequence(tiny_real, tmp_path):
    base, absent = tiny_real
    assert main([*_page_args(base, tmp_path), "--trackers", "csrt", "kcf"]) == 0
    out = tmp_path / "docs" / "benchmark-real.md"
    page = out.read_text()
    rows = _table_rows(page)
    assert sorted(rows) == ["csrt", "kcf"]
    header = page.split("| Tracker |")[1].splitlines()[0]
    for column in ("Success AUC", "Precision@20", "Norm. precision", "TPR", "TNR", "MaxGM", "LT F-score",
                   "Re-detected", "FPS", "Scored"):
        assert column in header
    # The data: each root, its reader, sequences, frames and absent frames.
    assert f"| `{base / 'lasot'}` | lasot | 1 | {len(BIRD_RANGE)} | {absent} | bird-3 |" in page
    assert f"| `{base / 'otb'}` | otb | 1 | {CROSSING_FRAMES} | 0 | Crossing |" in page
    assert f"TNR: only the {absent} absent frames, all in 1 sequences (bird-3)" in page
    assert "--suite real --trackers csrt kcf --data lasot=" in page

    # Every sequence's results in one format (LaSOT's), whatever layout it was read from.
    bench_dir = next((tmp_path / "runs").iterdir())
    assert bench_dir.name.startswith("real-")
    crossing = (bench_dir / "csrt" / "Crossing.txt").read_text().splitlines()
    assert len(crossing) == CROSSING_FRAMES
    scores = json.loads((bench_dir / "scores.json").read_text())["csrt"]
    per_seq = scores["per_sequence"]
    assert sorted(per_seq) == ["Crossing", "bird-3"]
    # Averaged over sequences (each counts once, whatever its length), as the page shows it.
    assert scores["success_auc"] == pytest.approx(np.mean([s["success_auc"] for s in per_seq.values()]))
    assert rows["csrt"][1] == f"{100 * scores['success_auc']:.1f}"
    assert per_seq["Crossing"]["success_auc"] > 0.5  # CSRT follows Crossing's pedestrian
    for plot in ("success", "precision", "tpr_tnr"):
        assert (out.parent / "benchmark-real" / f"{plot}.png").is_file()
    assert json.loads((out.parent / "benchmark-real" / "rows.json").read_text())["benchmark"] == bench_dir.name


def test_real_page_nanotrack_missing_folder_fails_its_row_only(tiny_real, tmp_path, capsys):
    base, _ = tiny_real
    missing = tmp_path / "no-such-folder"
    argv = [*_page_args(base, tmp_path), "--trackers", "kcf", "nanotrack", "--weights", f"nanotrack={missing}"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"nanotrack: weights {missing} not found" in err
    page = (tmp_path / "docs" / "benchmark-real.md").read_text()
    assert sorted(_table_rows(page)) == ["kcf"]
    assert f"- `nanotrack`: failed in the last run: nanotrack: weights {missing} not found" in page

    # Without --weights the page says how to add the row.
    assert main([*_page_args(base, tmp_path), "--trackers", "kcf", "nanotrack"]) == 0
    page = (tmp_path / "docs" / "benchmark-real.md").read_text()
    assert "`nanotrack`: learned tracker that ships no weights (add its row with `--weights nanotrack=PATH`)" in page


def test_suite_options_and_data_checks(tiny_real, tmp_path, capsys):
    base, _ = tiny_real
    assert main([*_page_args(base, tmp_path), "--trackers", "kcf", "--num", "3"]) == 1
    assert "--num: options of the synthetic suite" in capsys.readouterr().err
    assert main(["benchmark-page", "--data", f"otb={base / 'otb'}", "--trackers", "kcf",
                 "--out", str(tmp_path / "b.md")]) == 1
    assert "--data is an option of --suite real" in capsys.readouterr().err
    with pytest.raises(LongtrackError, match="names must be unique"):
        load_real_benchmark([("otb", str(base / "otb")), ("otb", str(base / "otb"))])


def test_default_real_data_is_real_val_and_real(shared_dir):
    parts = [(d, str(shared_dir / Path(root).relative_to("../shared"))) for d, root in DEFAULT_PARTS]
    bench, sequences = load_real_benchmark(parts)
    assert [(p.dataset, len(p.names)) for p in bench.parts] == [("lasot", 5), ("otb", 2), ("votlt2020", 1)]
    assert sum(len(s) for s in sequences) == 1868 + 120 + 81 + 196
    assert sum(int(s.absent.sum()) for s in sequences) == 121  # real-val's; OTB and VOT clips have none
    assert load_real_benchmark(parts)[0].id == bench.id


def test_nanotrack_row_is_kept_while_its_weights_folder_is_unchanged(tiny_real, shared_dir, tmp_path, capsys):
    base, _ = tiny_real
    folder = tmp_path / "nanotrack-v2"
    shutil.copytree(shared_dir / "models" / "nanotrack-v2", folder)
    argv = [*_page_args(base, tmp_path), "--trackers", "nanotrack", "--weights", f"nanotrack={folder}"]
    assert main(argv) == 0
    out = tmp_path / "docs" / "benchmark-real.md"
    before = _table_rows(out.read_text())["nanotrack"]
    assert before[0].startswith("`nanotrack-v2/` (")  # the folder and its digest name the weights
    shutil.rmtree(next((tmp_path / "runs").iterdir()) / "nanotrack")
    assert main([*argv, "--no-run"]) == 0
    kept = _table_rows(out.read_text())["nanotrack"]
    assert kept[:-1] == before[:-1] and kept[-1].endswith("(kept)")

    (folder / "nanotrack_head_sim.onnx").write_bytes(b"other weights")  # the folder changed: row dropped
    assert main([*argv, "--no-run"]) == 0
    assert "| nanotrack |" not in out.read_text()
    assert "dropping kept row nanotrack" in capsys.readouterr().err

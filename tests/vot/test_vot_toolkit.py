"""longtrack trackers under the real VOT toolkit (vot-toolkit 0.9.0, in its own cached venv).

A workspace over three small synthetic long-term sequences is evaluated with ``vot evaluate``
and analysed with ``vot analysis``. The toolkit exits 0 after a tracker error and with missing
results, so every check reads what it wrote: the result files line by line (against the same
tracker run through the Python API), the confidence files, the analysis JSON (against
``longtrack score``) and the workspace logs. First run: ~2 min (venv install + numba compile);
later runs reuse the venv (tests/vot/vot_toolkit_env.py).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from vot_toolkit_env import ensure_vot_toolkit, toolkit_env

import longtrack
from longtrack.cli import main as cli_main
from longtrack.datasets import load_dataset
from longtrack.trackers import DEFAULT_TRACKER
from longtrack.vot.workspace import vot_identifier

# classic-lt always; the default tracker too once it is another one (a learned one).
TRACKERS = list(dict.fromkeys([DEFAULT_TRACKER, "classic-lt"]))
NUM_SEQUENCES, NUM_FRAMES = 3, 60


def run_vot(vot: Path, *args, timeout: int = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(vot), *map(str, args)], capture_output=True, text=True,
                          env=toolkit_env(), timeout=timeout)
    proc.output = proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def vot_bin() -> Path:
    try:
        return ensure_vot_toolkit()
    except RuntimeError as exc:  # not a skip: this test must run wherever PyPI is reachable
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def evaluated(vot_bin, tmp_path_factory):
    root = tmp_path_factory.mktemp("vot")
    synth, ws = root / "synth", root / "ws"
    assert cli_main(["synth", "--out", str(synth), "--preset", "mini", "--split", "test",
                     "--num", str(NUM_SEQUENCES), "--size", "160x120", "--num-frames", str(NUM_FRAMES)]) == 0
    assert cli_main(["vot-workspace", "--dataset", "synthetic", "--root", str(synth), "--out", str(ws),
                     "--trackers", *TRACKERS]) == 0
    ids = [vot_identifier(t) for t in TRACKERS]
    evaluate = run_vot(vot_bin, "evaluate", "--workspace", ws, *ids)
    analysis = run_vot(vot_bin, "analysis", "--workspace", ws, "--format", "json", "--name", "check", *ids)
    return SimpleNamespace(synth=synth, ws=ws, ids=ids, evaluate=evaluate, analysis=analysis,
                           sequences=load_dataset("votlt2020", ws))


def test_toolkit_output_and_workspace_logs_show_no_error(evaluated):
    for proc in (evaluated.evaluate, evaluated.analysis):
        assert "Traceback" not in proc.output and "error" not in proc.output.lower(), proc.output[-3000:]
    assert "Evaluation concluded" in evaluated.evaluate.output, evaluated.evaluate.output[-3000:]
    logs = sorted(p.name for p in (evaluated.ws / "logs").iterdir())
    # The toolkit writes <tracker>_<time>.log only when a tracker failed; ours are the servers' logs.
    assert logs == sorted(f"longtrack-server-{i}.log" for i in evaluated.ids), logs
    for name in logs:
        text = (evaluated.ws / "logs" / name).read_text()
        assert " ERROR " not in text and "Traceback" not in text, text
        assert text.count("initialize on") == NUM_SEQUENCES, text


def _expected_run(tracker: str, seq):
    """The tracker through the Python API on the same frames, initialised as TraX delivers the
    box: printed with 4 decimals, read back as float32."""
    init = tuple(float(np.float32(round(v, 4))) for v in seq.init_box)
    trk = longtrack.create(tracker)
    trk.initialize(seq.frame(0), init)
    return [trk.track(seq.frame(i)) for i in range(1, len(seq))]


def _numbers(line: str) -> list[float]:
    return [float(v) for v in line.split(",")]


@pytest.mark.parametrize("tracker", TRACKERS)
def test_result_files_hold_what_the_tracker_reports(evaluated, tracker):
    assert len(evaluated.sequences) == NUM_SEQUENCES
    absent_reported = 0
    for seq in evaluated.sequences:
        folder = evaluated.ws / "results" / vot_identifier(tracker) / "longterm" / seq.name
        boxes = (folder / f"{seq.name}_001.txt").read_text().splitlines()
        confidence = (folder / f"{seq.name}_001_confidence.value").read_text().splitlines()
        times = (folder / f"{seq.name}_001_time.value").read_text().splitlines()
        assert len(boxes) == len(confidence) == len(times) == len(seq) == NUM_FRAMES
        assert boxes[0] == "1"  # the initialization marker
        assert confidence[0] == ""  # no confidence on the initialization frame
        for i, (pred, line, conf) in enumerate(zip(_expected_run(tracker, seq), boxes[1:], confidence[1:]), 2):
            where = f"{folder.name} frame {i}: {line!r} / {pred}"
            # A reported absence is the zero rectangle: vot-toolkit writes it as 0.0,0.0,0.0,0.0.
            expected = pred.box if pred.present else (0.0, 0.0, 0.0, 0.0)
            absent_reported += not pred.present
            # TraX carries boxes with 4 decimals; the toolkit stores float32.
            np.testing.assert_allclose(_numbers(line), expected, atol=2e-4, err_msg=where)
            assert float(conf) == pytest.approx(pred.score, abs=1e-9), where
    assert absent_reported > 0, "no absence was reported: the zero-rectangle path went untested"


def test_analysis_f_score_equals_longtrack_score(evaluated, tmp_path):
    report = json.loads((evaluated.ws / "analysis" / "check.json").read_text())
    longterm = report["results"]["longterm"]
    index = next(i for i, a in enumerate(longterm["parameters"]["analyses"]) if a["name"] == "average_tpr")
    assert list(report["trackers"]) == evaluated.ids
    for tracker, (precision, recall, f_score) in zip(evaluated.ids, longterm["results"][index]):
        out = tmp_path / f"{tracker}.json"
        assert cli_main(["score", "--dataset", "votlt2020", "--root", str(evaluated.ws), "--results",
                         str(evaluated.ws / "results" / tracker), "--json", str(out)]) == 0
        ours = json.loads(out.read_text())[tracker]
        assert 0 < f_score <= 1
        assert ours["f_score"] == pytest.approx(f_score, abs=1e-6)
        assert ours["precision"] == pytest.approx(precision, abs=1e-6)
        assert ours["recall"] == pytest.approx(recall, abs=1e-6)


def test_tracker_error_reaches_the_toolkit_and_the_logs(evaluated, vot_bin, tmp_path):
    ws = tmp_path / "broken"
    seq = evaluated.sequences[0].name
    assert cli_main(["vot-workspace", "--dataset", "synthetic", "--root", str(evaluated.synth), "--out", str(ws),
                     "--sequences", seq, "--images", "copy", "--trackers", "classic-lt"]) == 0
    (ws / "sequences" / seq / "color" / "00000010.jpg").write_bytes(b"not a jpeg")
    proc = run_vot(vot_bin, "evaluate", "--workspace", ws, "classic-lt")
    # The exit code says nothing (0 in vot-toolkit 0.9.0); the reason must reach the toolkit...
    assert "Server terminated the session: longtrack: frame 10" in proc.output, proc.output[-3000:]
    assert not (ws / "results" / "classic-lt" / "longterm" / seq / f"{seq}_001.txt").exists()
    toolkit_logs = list((ws / "logs").glob("classic-lt_*.log"))
    assert len(toolkit_logs) == 1, sorted((ws / "logs").iterdir())
    toolkit_log = toolkit_logs[0].read_text()
    assert "cannot decode image" in toolkit_log and "Traceback" in toolkit_log
    # ... and the server's own log keeps the traceback.
    server_log = (ws / "logs" / "longtrack-server-classic-lt.log").read_text()
    assert " ERROR LongtrackError failed at frame 10" in server_log and "Traceback" in server_log

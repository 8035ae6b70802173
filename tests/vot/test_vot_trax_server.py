"""The TraX server against the TraX client of vot-trax (longtrack's own environment): what it
replies per frame, how it reports errors, and how the tracker is chosen."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import trax
from trax.client import Client
from trax.image import FileImage

import longtrack
from longtrack.contract import Prediction
from longtrack.errors import LongtrackError
from longtrack.synth import iter_sequences, write_lasot
from longtrack.datasets import load_dataset
from longtrack.vot.trax_server import (ENV_LOG, ENV_TRACKER, ENV_WEIGHTS, ServerConfig, reply_box,
                                       reply_confidence)


@pytest.fixture(scope="module")
def sequence(tmp_path_factory):
    """A short synthetic long-term sequence in which the target leaves the view."""
    root = tmp_path_factory.mktemp("synth")
    for seq in iter_sequences("mini", "test", 1, size=(160, 120), num_frames=60):
        write_lasot(seq, root)
    seq = load_dataset("synthetic", root)[0]
    assert seq.absent.any() and not seq.absent[0]
    return seq


class Server:
    """A server process and a connected TraX client (stdin/stdout pipes, as the toolkit uses)."""

    def __init__(self, argv, env, stderr_path):
        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as stderr:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=stderr, env=env, bufsize=0)
        self.messages = []  # vot-trax 4.0.2's Client needs a logger (log=False fails)
        self.client = Client(stream=(self.proc.stdin.fileno(), self.proc.stdout.fileno()),
                             log=self.messages.append)

    def initialize(self, path, box):
        return self.client.initialize({"color": FileImage.create(str(path))},
                                      [(trax.Rectangle.create(*box), {})], {})[0]

    def frame(self, path):
        return self.client.frame({"color": FileImage.create(str(path))}, {}, [])[0]

    def finish(self) -> tuple[int, str]:
        self.proc.stdin.close()
        rc = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        return rc, self.stderr_path.read_text()


def server_env(**values) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LONGTRACK_")}
    env.update(values)
    return env


def float32_box(box):
    return tuple(float(np.float32(round(v, 4))) for v in box)


def test_cli_server_replies_box_and_confidence_per_object(sequence, tmp_path):
    log = tmp_path / "server.log"
    server = Server([sys.executable, "-m", "longtrack", "vot", "--tracker", "classic-lt", "--log", str(log)],
                    server_env(), tmp_path / "stderr.txt")
    init = float32_box(sequence.init_box)
    [(region, props)] = server.initialize(sequence.frames[0], init)
    np.testing.assert_allclose(region.bounds(), init, atol=1e-4)
    expected = longtrack.create("classic-lt")
    expected.initialize(sequence.frame(0), init)
    absent = 0
    for i in range(1, len(sequence)):
        pred = expected.track(sequence.frame(i))
        [(region, props)] = server.frame(sequence.frames[i])
        assert region.type == trax.Region.RECTANGLE
        want = pred.box if pred.present else (0.0, 0.0, 0.0, 0.0)
        np.testing.assert_allclose(region.bounds(), want, atol=2e-4, err_msg=f"frame {i + 1}")
        assert float(props["confidence"]) == pytest.approx(pred.score, abs=1e-9)
        absent += not pred.present
    assert absent > 0, "the tracker never reported the target absent"
    # A second initialize in the same session starts over (fresh state) without rebuilding.
    start = next(i for i in range(20, len(sequence) - 4) if not sequence.absent[i])
    again = float32_box(sequence.boxes[start])
    server.initialize(sequence.frames[start], again)
    fresh = longtrack.create("classic-lt")
    fresh.initialize(sequence.frame(start), again)
    for i in range(start + 1, start + 4):
        pred = fresh.track(sequence.frame(i))
        [(region, props)] = server.frame(sequence.frames[i])
        np.testing.assert_allclose(region.bounds(), pred.box if pred.present else (0, 0, 0, 0), atol=2e-4)
        assert float(props["confidence"]) == pytest.approx(pred.score, abs=1e-9)
    server.client.quit()
    rc, _ = server.finish()
    assert rc == 0
    text = log.read_text()
    assert text.count("longtrack TraX server: tracker classic-lt") == 1  # built once
    assert text.count("initialize on") == 2 and " ERROR " not in text


def test_a_tracking_error_ends_the_session_with_its_reason_and_is_logged(sequence, tmp_path):
    log = tmp_path / "logs" / "server.log"
    server = Server([sys.executable, "-m", "longtrack.vot.trax_server"],
                    server_env(**{ENV_TRACKER: "classic-lt", ENV_LOG: str(log)}), tmp_path / "stderr.txt")
    server.initialize(sequence.frames[0], float32_box(sequence.init_box))
    server.frame(sequence.frames[1])
    missing = tmp_path / "missing.jpg"
    with pytest.raises(trax.TraxException, match=r"Server terminated the session: longtrack: frame 3 "):
        server.frame(missing)
    rc, stderr = server.finish()
    assert rc == 1
    text = log.read_text()
    assert f"image not found: {missing}" in text and "Traceback" in text and " ERROR " in text
    assert "Traceback" in stderr  # the toolkit saves the tracker's stderr into its workspace log


@pytest.mark.parametrize("env, reason", [
    ({ENV_TRACKER: "no-such-tracker"}, "unknown tracker 'no-such-tracker'"),
    ({ENV_TRACKER: "classic-lt", ENV_WEIGHTS: "/x.pt"}, "classic-lt uses no weights"),
    ({}, f"set {ENV_TRACKER}"),
])
def test_a_tracker_that_cannot_be_built_is_reported_at_initialization(sequence, tmp_path, env, reason):
    log = tmp_path / "server.log"
    server = Server([sys.executable, "-m", "longtrack.vot.trax_server"], server_env(**env, **{ENV_LOG: str(log)}),
                    tmp_path / "stderr.txt")
    with pytest.raises(trax.TraxException, match="Server terminated the session") as info:
        server.initialize(sequence.frames[0], sequence.init_box)
    assert reason in str(info.value)
    rc, _ = server.finish()
    assert rc == 1
    assert reason in log.read_text()


def test_reply_box_is_the_zero_rectangle_when_absent_or_not_finite():
    assert reply_box(Prediction((1, 2, 3, 4), 0.9, True)) == (1.0, 2.0, 3.0, 4.0)
    assert reply_box(Prediction((1, 2, 3, 4), 0.1, False)) == (0.0, 0.0, 0.0, 0.0)
    assert reply_box(Prediction((np.nan, 2, 3, 4), 0.9, True)) == (0.0, 0.0, 0.0, 0.0)
    assert reply_confidence(Prediction((1, 2, 3, 4), np.nan, True)) == 0.0
    assert reply_confidence(Prediction((1, 2, 3, 4), 0.25, False)) == 0.25


def test_config_from_env():
    config = ServerConfig.from_env({ENV_TRACKER: " classic-lt ", ENV_WEIGHTS: "", ENV_LOG: "/tmp/x.log"})
    assert config == ServerConfig("classic-lt", None, "cpu", config.log_path)
    assert str(config.log_path) == "/tmp/x.log"
    with pytest.raises(LongtrackError, match=ENV_TRACKER):
        ServerConfig.from_env({ENV_TRACKER: "  "})

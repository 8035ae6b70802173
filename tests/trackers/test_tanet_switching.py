"""TANet's per-local-tracker switching thresholds: the shipped table reads clean, the lookup order
(explicit argument > table entry > the paper's values, warned), a damaged table is one clear
error, and a bare ``tanet`` wraps the documented default local tracker."""
from __future__ import annotations

import json
import warnings

import pytest

import longtrack
from longtrack.errors import LongtrackError
from longtrack.registry import DEFAULT_LOCAL_TRACKERS, get_tracker_spec
from longtrack.trackers.opencv_trackers import CSRTTracker
from longtrack.trackers.tanet import TANetTracker
from longtrack.trackers.tanet_switching import (PAPER_SWITCHING, read_table, shipped_table_path,
                                                switching_thresholds, write_entry)


def _table(tmp_path, entries: dict, name: str = "table.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"format": 1, "local_trackers": entries}))
    return str(path)


KCF_ENTRY = {"beta1": 0.3, "beta2": 2, "verify_threshold": 0.62, "tuned_on": "a test"}


def test_the_shipped_table_reads_clean():
    entries = read_table(shipped_table_path())
    for name, entry in entries.items():
        get_tracker_spec(name)  # every entry names a registered local tracker
        assert entry["beta2"] >= 1 and -1 <= entry["verify_threshold"] <= 1


def test_lookup_order_explicit_then_table_then_paper(tmp_path):
    table = _table(tmp_path, {"kcf": KCF_ENTRY})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a tuned entry: no warning
        assert switching_thresholds("kcf", {}, table) == {"beta1": 0.3, "beta2": 2, "verify_threshold": 0.62}
        assert switching_thresholds("kcf", {"beta1": 0.9, "beta2": None}, table) == \
            {"beta1": 0.9, "beta2": 2, "verify_threshold": 0.62}
    with pytest.warns(UserWarning, match="no tuned switching thresholds for local tracker 'csrt'.*beta1=0.8"):
        assert switching_thresholds("csrt", {}, table) == PAPER_SWITCHING
    with pytest.warns(UserWarning) as caught:  # only the values still missing are named
        assert switching_thresholds("csrt", {"beta1": 0.4}, table)["beta1"] == 0.4
    assert "beta1=" not in str(caught[0].message) and "beta2=5" in str(caught[0].message)


def test_the_tracker_reads_its_local_trackers_entry(tmp_path):
    table = _table(tmp_path, {"kcf": KCF_ENTRY})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the random generator's warning
        tracker = TANetTracker(weights=None, local_tracker="kcf", switching_table=table)
        assert (tracker.beta1, tracker.beta2, tracker.verify_threshold) == (0.3, 2, 0.62)
        assert tracker.redetect_threshold == 0.3  # follows beta1 unless given
        tracker = longtrack.create("tanet:kcf", switching_table=table, beta2=9)
        assert (tracker.beta1, tracker.beta2) == (0.3, 9)


@pytest.mark.parametrize("text, why", [
    ("{not json", "not JSON"),
    (json.dumps({"local_trackers": {}}), "format"),
    (json.dumps({"format": 1, "local_trackers": []}), "local_trackers"),
    (json.dumps({"format": 1, "local_trackers": {"kcf": {"beta1": 0.5, "beta2": 3}}}), "lacks verify_threshold"),
    (json.dumps({"format": 1, "local_trackers": {"kcf": {**KCF_ENTRY, "beta2": 0}}}), "beta2 must be"),
    (json.dumps({"format": 1, "local_trackers": {"kcf": {**KCF_ENTRY, "beta1": "high"}}}), "beta1 must be"),
    (json.dumps({"format": 1, "local_trackers": {"kcf": {**KCF_ENTRY, "verify_threshold": 3}}}), "NCC in"),
])
def test_a_damaged_table_is_one_clear_error(tmp_path, text, why):
    path = tmp_path / "table.json"
    path.write_text(text)
    with pytest.raises(LongtrackError, match=f"damaged TANet switching table.*{why}"):
        switching_thresholds("kcf", {}, str(path))


def test_write_entry_keeps_the_other_entries(tmp_path):
    path = str(tmp_path / "new" / "table.json")
    write_entry(path, "kcf", KCF_ENTRY)
    write_entry(path, "csrt", {**KCF_ENTRY, "beta1": 0.5})
    write_entry(path, "kcf", {**KCF_ENTRY, "beta2": 4})
    entries = read_table(path)
    assert sorted(entries) == ["csrt", "kcf"] and entries["kcf"]["beta2"] == 4 and entries["csrt"]["beta1"] == 0.5
    with pytest.raises(LongtrackError, match="beta2"):
        write_entry(path, "kcf", {**KCF_ENTRY, "beta2": 0.5})
    assert read_table(path)["kcf"]["beta2"] == 4  # a refused entry leaves the file as it was


def test_bare_tanet_wraps_the_default_local_tracker():
    assert DEFAULT_LOCAL_TRACKERS["tanet"] == "csrt"
    spec = get_tracker_spec("tanet")
    assert spec.name == "tanet" and spec.options == {"local_tracker": "csrt"}
    assert spec.default_weights == get_tracker_spec("tanet:kcf").default_weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracker = longtrack.create("tanet")
        assert tracker.name == "tanet:csrt" and isinstance(tracker.local, CSRTTracker)
        assert TANetTracker(weights=None, beta1=0.8, beta2=5, verify_threshold=0.5).local_name == "csrt"
    with pytest.raises(LongtrackError, match="unknown tracker"):
        get_tracker_spec("tanet:nosuchtracker")

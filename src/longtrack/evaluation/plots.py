"""Comparison plots (matplotlib, Agg backend): success and precision curves with the score in
the legend, GOT-10k's success curve, VOT-LT F-score against threshold and precision-recall,
OxUvA TPR/TNR with MaxGM, and per-attribute bars."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..datasets.sequence import Sequence
from ..fileio import atomic_path
from .report import attribute_breakdown


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def _curve_plot(results, x_key, y_key, score_key, title, xlabel, ylabel, path, percent=True):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ranked = sorted(results.items(), key=lambda kv: -kv[1][score_key])
    for name, r in ranked:
        score = r[score_key]
        label = f"[{100 * score:.1f}] {name}" if percent else f"[{score:.3f}] {name}"
        ax.plot(np.asarray(r["curves"][x_key]), np.asarray(r["curves"][y_key]), linewidth=2, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel, ylim=(0, 1.02))
    ax.grid(True, linestyle=":")
    ax.legend(loc="best", fontsize=8)
    return _save(fig, path)


def plot_ope(results: dict[str, dict], out_dir: Path, dataset: str) -> list[Path]:
    out_dir = Path(out_dir)
    return [
        _curve_plot(results, "success_x", "success", "success_auc", f"Success plot ({dataset})",
                    "Overlap threshold", "Success rate", out_dir / "success.png"),
        _curve_plot(results, "precision_x", "precision", "precision", f"Precision plot ({dataset})",
                    "Location error threshold (px)", "Precision", out_dir / "precision.png"),
        _curve_plot(results, "norm_precision_x", "norm_precision", "norm_precision",
                    f"Normalized precision plot ({dataset})", "Normalized location error threshold",
                    "Normalized precision", out_dir / "norm_precision.png"),
    ]


def plot_got10k(results: dict[str, dict], out_dir: Path, dataset: str) -> list[Path]:
    return [_curve_plot(results, "success_x", "success", "ao", f"Success plot ({dataset}, AO in legend)",
                        "Overlap threshold", "Success rate", Path(out_dir) / "success.png")]


def plot_votlt(results: dict[str, dict], out_dir: Path, dataset: str) -> list[Path]:
    plt = _pyplot()
    out_dir = Path(out_dir)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for name, r in sorted(results.items(), key=lambda kv: -kv[1]["f_score"]):
        thr = np.asarray(r["curves"]["thresholds"], dtype=float)[1:-1]
        f = np.asarray(r["curves"]["f_score"], dtype=float)[1:-1]
        ax.plot(thr, f, linewidth=2, label=f"[{r['f_score']:.3f}] {name}")
        ax.plot([r["threshold"]], [r["f_score"]], "o", color=ax.lines[-1].get_color())
    ax.set(title=f"F-score against confidence threshold ({dataset})", xlabel="Confidence threshold",
           ylabel="F-score", ylim=(0, 1.02))
    ax.invert_xaxis()
    ax.grid(True, linestyle=":")
    ax.legend(loc="best", fontsize=8)
    paths = [_save(fig, out_dir / "f_score.png")]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for name, r in sorted(results.items(), key=lambda kv: -kv[1]["f_score"]):
        ax.plot(np.asarray(r["curves"]["recall"], float), np.asarray(r["curves"]["precision"], float),
                linewidth=2, label=f"[{r['f_score']:.3f}] {name}")
        ax.plot([r["recall"]], [r["precision"]], "o", color=ax.lines[-1].get_color())
    ax.set(title=f"Tracking precision-recall ({dataset})", xlabel="Recall", ylabel="Precision",
           xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(True, linestyle=":")
    ax.legend(loc="best", fontsize=8)
    paths.append(_save(fig, out_dir / "precision_recall.png"))
    return paths


def plot_oxuva(results: dict[str, dict], out_dir: Path, dataset: str, key: str | None = None) -> list[Path]:
    """TPR against TNR; the dashed segment to (1, 0) is what reporting absent at random reaches,
    its best geometric mean is MaxGM. ``key`` reads nested results (``"presence"``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 5.2))
    grid = np.linspace(0.01, 1, 100)
    for gm in (0.2, 0.4, 0.6, 0.8):
        ax.plot(grid, np.where(grid >= gm ** 2, gm ** 2 / grid, np.nan), color="0.85", linewidth=1)
    def metrics(r):
        return r[key] if key else r

    def value(m, k):
        return float(np.nan_to_num(np.nan if m.get(k) is None else m[k]))

    for name, r in sorted(results.items(), key=lambda kv: -value(metrics(kv[1]), "max_gm")):
        m = metrics(r)
        tnr, tpr = value(m, "tnr"), value(m, "tpr")
        (line,) = ax.plot([tnr], [tpr], "o", markersize=7, label=f"[{100 * value(m, 'max_gm'):.1f}] {name}")
        ax.plot([tnr, 1.0], [tpr, 0.0], "--", color=line.get_color(), linewidth=1)
    ax.set(title=f"TPR / TNR ({dataset}, MaxGM in legend)", xlabel="True negative rate",
           ylabel="True positive rate", xlim=(0, 1.02), ylim=(0, 1.02))
    ax.grid(True, linestyle=":")
    ax.legend(loc="best", fontsize=8)
    return [_save(fig, Path(out_dir) / "tpr_tnr.png")]


def plot_attributes(results: dict[str, dict], sequences: list[Sequence], out_dir: Path, dataset: str,
                    key: str = "success_auc") -> list[Path]:
    """Bars of the mean per-sequence ``key`` for each attribute, one bar per tracker; nothing
    when the sequences carry no attribute that separates them."""
    per_tracker = {n: attribute_breakdown(sequences, r.get("per_sequence", {}), key) for n, r in results.items()}
    attrs = sorted({a for b in per_tracker.values() for a in b})
    if not attrs:
        return []
    for name, b in per_tracker.items():  # every sequence, for reference
        values = [v[key] for v in results[name]["per_sequence"].values()]
        b["all"] = (float(np.mean(values)), len(values))
    attrs = ["all"] + attrs
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.4, 1.1 * len(attrs) + 2), 4.8))
    width = 0.8 / max(1, len(per_tracker))
    x = np.arange(len(attrs))
    for i, (name, b) in enumerate(per_tracker.items()):
        ax.bar(x + i * width, [b.get(a, (np.nan, 0))[0] for a in attrs], width, label=name)
    counts = next(iter(per_tracker.values()))
    ax.set_xticks(x + width * (len(per_tracker) - 1) / 2,
                  [f"{a}\n({counts.get(a, (0, 0))[1]})" for a in attrs], fontsize=8)
    ax.set(title=f"{key} per attribute ({dataset}; sequence count below)", ylabel=key, ylim=(0, 1))
    ax.grid(True, axis="y", linestyle=":")
    ax.legend(loc="best", fontsize=8)
    return [_save(fig, Path(out_dir) / f"attributes_{key}.png")]


def plot_results(results: dict[str, dict], protocol: str, out_dir, dataset: str,
                 sequences: list[Sequence] | None = None) -> list[Path]:
    """Every plot of the protocol into ``out_dir``; returns the files written."""
    out_dir = Path(out_dir)
    if protocol in ("ope", "tlp"):
        paths = plot_ope(results, out_dir, dataset)
        if all("presence" in r for r in results.values()):
            paths += plot_oxuva(results, out_dir, dataset, key="presence")
        if sequences:
            paths += plot_attributes(results, sequences, out_dir, dataset)
        return paths
    if protocol == "got10k":
        return plot_got10k(results, out_dir, dataset)
    if protocol == "votlt":
        return plot_votlt(results, out_dir, dataset)
    if protocol == "oxuva":
        return plot_oxuva(results, out_dir, dataset)
    raise ValueError(f"no plots for protocol {protocol!r}")

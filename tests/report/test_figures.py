"""Publication figures: structure (what is drawn equals the result objects given), byte-identical
output, export formats, and image comparison against committed baselines.

Baselines live in ``tests/report/baseline`` (PNG, 100 dpi). After a deliberate change of the
look, regenerate them with ``CARTSCOPE_UPDATE_BASELINES=1 pytest tests/report`` and review the
new images before committing.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.testing.compare import compare_images

from cartscope.report.figures import export, style
from cartscope.report.figures.cif import cif_figure
from cartscope.report.figures.forest import forest_figure
from cartscope.report.figures.heatmap import fold_change_heatmap
from cartscope.report.figures.kinetics import car_kinetics_figure, cytokine_course_figure, daily_summary
from cartscope.report.figures.km import km_figure, km_steps
from cartscope.report.figures.markers import marker_by_class_figure
from cartscope.report.figures.relapse import relapse_timing_figure
from cartscope.report.figures.roc import roc_figure
from cartscope.report.figures.swimmer import swimmer_figure, swimmer_order
from cartscope.report.figures.venn import venn_figure, venn_regions
from cartscope.stats.competing import cumulative_incidence, gray_test
from cartscope.stats.cox import cox
from cartscope.stats.km import kaplan_meier
from cartscope.stats.roc import roc
from cartscope.stats.survival import logrank

BASELINE = Path(__file__).parent / "baseline"
UPDATE = os.environ.get("CARTSCOPE_UPDATE_BASELINES") == "1"
MONTH = 30.4375


# --- inputs: real estimators on tiny seeded data -----------------------------------------


@pytest.fixture(scope="module")
def survival_data() -> dict:
    rng = np.random.default_rng(20230)
    n = 30
    group = np.repeat(["B-ALL", "B-NHL"], n // 2)
    time = np.round(rng.exponential(np.where(group == "B-ALL", 500.0, 220.0)))
    event = (rng.random(n) < 0.7).astype(int)
    fits = {g: kaplan_meier(time[group == g], event[group == g]) for g in ("B-ALL", "B-NHL")}
    return {"time": time, "event": event, "group": group, "fits": fits,
            "logrank": logrank(time, event, group)}


@pytest.fixture(scope="module")
def km_fig(survival_data) -> Figure:
    return km_figure(survival_data["fits"], logrank=survival_data["logrank"], ci=True,
                     ylabel="Overall survival (%)")


@pytest.fixture(scope="module")
def cif_data() -> dict:
    rng = np.random.default_rng(7)
    n = 40
    group = np.repeat(["B-ALL", "B-NHL"], n // 2)
    time = np.round(rng.exponential(300.0, n)) + 1
    cause = rng.choice([0, 1, 2], n, p=[0.4, 0.45, 0.15])
    cif = cumulative_incidence(time, cause, group)
    gray = {c: gray_test(time, cause, group, cause_of_interest=c) for c in (1, 2)}
    return {"cif": cif, "gray": gray}


@pytest.fixture(scope="module")
def roc_data() -> dict:
    rng = np.random.default_rng(11)
    label = np.r_[np.ones(13), np.zeros(26)].astype(int)
    a = np.round(np.exp(rng.normal(1.2 * label, 0.8)), 3)
    b = np.round(np.exp(rng.normal(0.9 * label, 0.9)), 3)
    return {"MIP3a": roc(a, label), "Eotaxin": roc(b, label)}


@pytest.fixture(scope="module")
def cox_result():
    rng = np.random.default_rng(4)
    n = 60
    x = pd.DataFrame({"ldh_high": rng.integers(0, 2, n), "age_10y": rng.normal(0, 1, n)})
    t = np.round(rng.exponential(300 * np.exp(-0.7 * x["ldh_high"] - 0.3 * x["age_10y"]))) + 1
    e = (rng.random(n) < 0.7).astype(int)
    return cox(t, e, x)


@pytest.fixture(scope="module")
def endpoints() -> pd.DataFrame:
    """Six patients covering every swimmer marker (days from the index infusion)."""
    nan = np.nan
    return pd.DataFrame({
        "patient_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
        "disease_group": ["B-ALL", "B-ALL", "B-NHL", "B-NHL", "B-NHL", "B-ALL"],
        "index_day": [0.0, 0.0, 0.0, 0.0, 0.0, 10.0],
        "last_contact_day": [700.0, 400.0, 150.0, 900.0, 60.0, 365.0],
        "death_day": [nan, nan, 150.0, nan, 60.0, nan],
        "lost_day": [nan, 400.0, nan, nan, nan, nan],
        "response_day": [28.0, 28.0, 30.0, 30.0, nan, 28.0],
        "relapse_day": [200.0, 100.0, 90.0, nan, nan, nan],
        "progression_day": [200.0, 100.0, 90.0, nan, 40.0, nan],
        "relapse_cd19": ["negative", "positive", "unknown", None, None, None],
        "hsct_day": [nan, nan, nan, 120.0, nan, nan],
        "relapse_bin": ["6-12", "0-6", "0-6", None, None, None],
    })


# --- helpers -------------------------------------------------------------------------------


def _svg_bytes(fig: Figure) -> bytes:
    return export.figure_svg(fig).encode()


def _pdf_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with style.figure_style():
        fig.savefig(buf, format="pdf", metadata={"CreationDate": None, "ModDate": None})
    return buf.getvalue()


def _check_image(fig: Figure, name: str, tmp_path: Path, tol: float = 1.0) -> None:
    expected = BASELINE / f"{name}.png"
    actual = tmp_path / f"{name}.png"
    export.save_figure(fig, actual.with_suffix(""), formats=("png",), dpi=100)
    if UPDATE:
        BASELINE.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(actual, expected)
        return
    assert expected.exists(), f"missing baseline {expected}; run with CARTSCOPE_UPDATE_BASELINES=1"
    err = compare_images(str(expected), str(actual), tol=tol)
    assert err is None, err


def _legend_texts(ax) -> list[str]:
    legend = ax.get_legend() or ax.figure.legends[0]  # a legend in its band above the plot
    return [t.get_text() for t in legend.get_texts()]


# --- style and export ----------------------------------------------------------------------


@pytest.mark.parametrize("p, text", [
    (0.0049, "p = 0.0049"), (0.0954, "p = 0.095"), (0.5, "p = 0.50"), (0.04999, "p = 0.050"),
    (0.999, "p = 1.00"), (3e-7, "p < 0.0001"), (0.00012, "p = 0.00012"), (float("nan"), "p = NA"),
])
def test_format_p(p, text):
    assert style.format_p(p) == text


def test_format_p_rejects_out_of_range():
    with pytest.raises(ValueError, match="p-value must be in"):
        style.format_p(1.5)


def test_format_number():
    assert style.format_number(4.70312, 4) == "4.703"
    assert style.format_number(1234.5, 3) == "1234"
    assert style.format_number(0.012345, 3) == "0.0123"


def test_colors_for_keeps_given_and_fills_from_palette():
    cols = style.colors_for(["a", "b", "c"], {"b": style.PALETTE[0]})
    assert cols["b"] == style.PALETTE[0]
    assert cols["a"] == style.PALETTE[1] and cols["c"] == style.PALETTE[2]


def test_style_is_local(km_fig):
    before = dict(mpl.rcParams)
    with style.figure_style():
        assert mpl.rcParams["svg.hashsalt"] == style.SVG_HASH_SALT
        assert mpl.rcParams["font.sans-serif"][0] == "DejaVu Sans"
    export.figure_svg(km_fig)
    assert dict(mpl.rcParams) == before


def test_save_figure_writes_three_formats(km_fig, tmp_path):
    from PIL import Image

    paths = export.save_figure(km_fig, tmp_path / "sub" / "km")
    assert [p.name for p in paths] == ["km.svg", "km.pdf", "km.png"]
    assert paths[0].read_text().lstrip().startswith("<?xml")
    assert paths[1].read_bytes().startswith(b"%PDF")
    with Image.open(paths[2]) as im:
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert im.size[0] > 3.5 * 300 * 0.9
    pdf = paths[1].read_bytes()
    assert b"CreationDate" not in pdf and b"FontFile2" in pdf  # no date; TrueType embedded
    assert "<dc:date>" not in paths[0].read_text()


def test_save_figure_byte_identical(survival_data, tmp_path):
    def build() -> Figure:
        return km_figure(survival_data["fits"], logrank=survival_data["logrank"])

    a = export.save_figure(build(), tmp_path / "a" / "km", dpi=100)
    b = export.save_figure(build(), tmp_path / "b" / "km", dpi=100)
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.suffix


def test_save_figure_rejects_unknown_format(km_fig, tmp_path):
    with pytest.raises(ValueError, match="unknown figure format"):
        export.save_figure(km_fig, tmp_path / "x", formats=("svg", "tiff"))
    with pytest.raises(TypeError, match="matplotlib Figure"):
        export.save_figure("not a figure", tmp_path / "x")


def test_figure_svg_is_inline_element(km_fig):
    svg = export.figure_svg(km_fig)
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert "Log-rank p =" in svg  # text kept as text (svg.fonttype none)


def test_figure_svg_salt_changes_ids(km_fig):
    a = export.figure_svg(km_fig, id_salt="one")
    b = export.figure_svg(km_fig, id_salt="two")
    ids_a = set(re.findall(r'id="(p[0-9a-f]+)"', a))
    ids_b = set(re.findall(r'id="(p[0-9a-f]+)"', b))
    assert ids_a and ids_b and not ids_a & ids_b


# --- Kaplan-Meier --------------------------------------------------------------------------


def test_km_structure(km_fig, survival_data):
    axes = {ax.get_label(): ax for ax in km_fig.axes}
    assert set(axes) == {"km", "risk table"}
    ax = axes["km"]
    fits = survival_data["fits"]
    # one step curve and one censor-mark line per group, one CI band per group
    assert len(ax.lines) == 2 * len(fits)
    assert len(ax.collections) == len(fits)
    # the legend sits in its own band above the plot (a figure legend), clear of the curves
    assert ax.get_legend() is None and len(km_fig.legends) == 1
    assert [t.get_text() for t in km_fig.legends[0].get_texts()] == [
        "B-ALL (n = 15)", "B-NHL (n = 15)",
        style.format_p(survival_data["logrank"].p_value, prefix="Log-rank p"),
    ]
    assert km_fig.legends[0].get_window_extent().y0 >= ax.get_window_extent().y1 - 1
    for line, km in zip(ax.lines[0::2], fits.values()):
        x, y = km_steps(km)
        np.testing.assert_allclose(line.get_xdata(), x / MONTH)
        np.testing.assert_allclose(line.get_ydata(), y * 100)
        assert line.get_drawstyle() == "steps-post"
    for marks, km in zip(ax.lines[1::2], fits.values()):
        cens = km.n_censor > 0
        assert marks.get_marker() == "+"
        np.testing.assert_allclose(marks.get_ydata(), km.survival[cens] * 100)


def test_km_risk_table_matches_risk_table(km_fig, survival_data):
    axes = {ax.get_label(): ax for ax in km_fig.axes}
    ticks = axes["km"].get_xticks()
    risk = axes["risk table"]
    numbers = [t for t in risk.texts if t.get_transform() == risk.transData]
    labels = [t.get_text() for t in risk.texts if t.get_transform() != risk.transData]
    fits = survival_data["fits"]
    # per group: the number at risk and the cumulative number censored at every tick
    assert len(numbers) == 2 * len(ticks) * len(fits)
    shown = np.array([int(t.get_text()) for t in numbers]).reshape(len(fits), 2, len(ticks))
    for rows, km in zip(shown, fits.values()):
        rt = km.risk_table(ticks * MONTH)
        np.testing.assert_array_equal(rows[0], rt.n_risk)
        np.testing.assert_array_equal(rows[1], rt.cum_censored)
    # numbers sit exactly under the ticks
    np.testing.assert_allclose([t.get_position()[0] for t in numbers[: len(ticks)]], ticks)
    assert shown[0, 0, 0] == 15 and shown[1, 0, 0] == 15
    assert labels == ["Number at risk and censored", "B-ALL", "At risk", "Censored", "B-NHL", "At risk", "Censored"]


def test_km_days_unit_and_single_curve(survival_data):
    km = survival_data["fits"]["B-ALL"]
    fig = km_figure(km, unit="days", risk_table=False, ticks=[0, 100, 200, 300])
    assert [ax.get_label() for ax in fig.axes] == ["km"]
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), km_steps(km)[0])
    assert ax.get_xlabel() == "Days since infusion"
    assert list(ax.get_xticks()) == [0, 100, 200, 300]


def test_km_rejects_bad_input():
    with pytest.raises(ValueError, match="non-empty mapping"):
        km_figure({})
    with pytest.raises(TypeError, match="not a KaplanMeier"):
        km_figure({"a": [1, 2]})
    with pytest.raises(ValueError, match="unit must be"):
        km_figure(kaplan_meier([1, 2], [1, 0]), unit="weeks")


def test_km_deterministic(survival_data, km_fig):
    again = km_figure(survival_data["fits"], logrank=survival_data["logrank"], ci=True,
                      ylabel="Overall survival (%)")
    assert _svg_bytes(km_fig) == _svg_bytes(again)
    assert _pdf_bytes(km_fig) == _pdf_bytes(again)
    # a figure drawn again (e.g. inline SVG, then files) does not move
    assert _svg_bytes(again) == _svg_bytes(again)


def test_km_image(km_fig, tmp_path):
    _check_image(km_fig, "km", tmp_path)


# --- cumulative incidence ------------------------------------------------------------------


def test_cif_structure(cif_data):
    cif, gray = cif_data["cif"], cif_data["gray"]
    fig = cif_figure(cif, cause_labels={1: "Relapse", 2: "NRM"}, gray=gray)
    ax = fig.axes[0]
    assert ax.get_label() == "cif"
    assert len(ax.lines) == 4
    texts = _legend_texts(ax)
    assert texts[:4] == ["B-ALL, Relapse", "B-ALL, NRM", "B-NHL, Relapse", "B-NHL, NRM"]
    assert texts[4] == style.format_p(gray[1].p_value, prefix="Gray's test (Relapse) p")
    assert texts[5] == style.format_p(gray[2].p_value, prefix="Gray's test (NRM) p")
    curve = cif.curve(1, "B-NHL")
    line = ax.lines[2]
    np.testing.assert_allclose(line.get_ydata()[1:-1], curve.estimate * 100)
    assert line.get_xdata()[-1] == pytest.approx(curve.max_time / MONTH)
    # same colour per group, dashed for the second cause
    assert ax.lines[0].get_color() == ax.lines[1].get_color() != ax.lines[2].get_color()
    assert ax.lines[0].get_linestyle() == "-" and ax.lines[1].get_linestyle() == "--"


def test_cif_single_cause_with_one_gray(cif_data):
    fig = cif_figure(cif_data["cif"], causes=[1], cause_labels={1: "Relapse"},
                     gray=cif_data["gray"][1], ci=True)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and len(ax.collections) == 2
    assert _legend_texts(ax) == ["B-ALL", "B-NHL",
                                 style.format_p(cif_data["gray"][1].p_value, prefix="Gray's test p")]


def test_cif_risk_table_prints_the_analysis_counts(cif_data):
    from cartscope.analysis.analyses.competing import risk_marks
    from cartscope.stats.competing_risk_table import competing_risk_table

    rng = np.random.default_rng(7)  # the data of cif_data
    n = 40
    group = np.repeat(["B-ALL", "B-NHL"], n // 2)
    time = np.round(rng.exponential(300.0, n)) + 1
    cause = rng.choice([0, 1, 2], n, p=[0.4, 0.45, 0.15])
    marks = risk_marks(time.max())
    frame = competing_risk_table(time, cause, marks * MONTH, group).to_frame()
    frame["month"] = np.tile(marks, 2)
    fig = cif_figure(cif_data["cif"], cause_labels={1: "Relapse", 2: "Non-relapse mortality"},
                     cause_short={1: "Relapse", 2: "NRM"}, risk_table=frame, gray=cif_data["gray"])
    ax = fig.axes[0]
    risk = next(a for a in fig.axes if a.get_label() == "risk table")
    np.testing.assert_array_equal(ax.get_xticks(), marks)
    cells = [(round(t.get_position()[0], 6), t.get_position()[1], t.get_text()) for t in risk.texts
             if t.get_transform() == risk.transData]
    by_line: dict = {}
    for x, line, txt in cells:
        by_line.setdefault(line, []).append((x, int(txt)))
    rows = [[v for _, v in sorted(by_line[k])] for k in sorted(by_line)]
    want = []
    for g in ("B-ALL", "B-NHL"):
        part = frame[frame["group"] == g]
        want += [list(part["n_risk"]), list(part["events_1"]), list(part["events_2"])]
    assert rows == want
    labels = [t.get_text() for t in risk.texts if t.get_transform() != risk.transData]
    assert labels == ["Number at risk and cumulative events", "B-ALL", "At risk", "Relapse", "NRM",
                      "B-NHL", "At risk", "Relapse", "NRM"]
    with pytest.raises(ValueError, match="no row for group"):
        cif_figure(cif_data["cif"], risk_table=frame.drop(index=len(marks) - 1))  # B-ALL lacks the last mark
    from figure_quality import check_figure

    assert not check_figure(fig, "cif_risk")


def test_cif_image(cif_data, tmp_path):
    fig = cif_figure(cif_data["cif"], cause_labels={1: "Relapse", 2: "NRM"}, gray=cif_data["gray"])
    _check_image(fig, "cif", tmp_path)


# --- ROC -----------------------------------------------------------------------------------


def test_roc_structure(roc_data):
    fig = roc_figure(roc_data)
    ax = fig.axes[0]
    assert ax.get_label() == "roc"
    # the legend (AUC and the cut-off in words) sits under the axes: no leader line crosses a curve
    assert ax.get_legend() is None and not ax.texts
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    for text, (name, r) in zip(texts, roc_data.items()):
        ci = r.auc_ci()
        yo = r.youden()
        assert text == (f"{name}: AUC {r.auc:.2f} (95% CI {ci.lower:.2f}\u2013{ci.upper:.2f})\n"
                        f"cut-off {style.format_number(yo.threshold, 4)}: Se {100 * yo.sensitivity:.1f}%, "
                        f"Sp {100 * yo.specificity:.1f}%")
    # diagonal + (curve, Youden point) per marker
    assert len(ax.lines) == 1 + 2 * len(roc_data)
    for k, r in enumerate(roc_data.values()):
        yo = r.youden()
        point = ax.lines[2 + 2 * k]
        assert point.get_xdata()[0] == pytest.approx(1 - yo.specificity)
        assert point.get_ydata()[0] == pytest.approx(yo.sensitivity)
        curve = ax.lines[1 + 2 * k]
        assert curve.get_xdata()[0] == 0 and curve.get_ydata()[-1] == 1
        assert np.all(np.diff(curve.get_xdata()) >= 0)


def test_roc_rejects_panel():
    panel = roc(np.random.default_rng(0).normal(size=(10, 2)), [0, 1] * 5)
    with pytest.raises(ValueError, match="panel"):
        roc_figure({"panel": panel})


def test_roc_image(roc_data, tmp_path):
    _check_image(roc_figure(roc_data), "roc", tmp_path)


# --- marker dot/box ------------------------------------------------------------------------


def _marker_frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    cls = np.r_[["NR/ER"] * 8, ["durable"] * 12, ["not evaluable"] * 2]
    v = np.exp(rng.normal(np.where(cls == "NR/ER", 2.0, 1.0), 0.7))
    return pd.DataFrame({"MIP3a": v, "outcome_class": cls})


def test_marker_plot_structure():
    df = _marker_frame()
    fig = marker_by_class_figure(df, value="MIP3a", p_value=0.0123, log_scale=True, seed=3)
    ax = fig.axes[0]
    assert ax.get_label() == "markers" and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["NR/ER\n(n = 8)", "durable\n(n = 12)"]
    points = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert [len(p.get_ydata()) for p in points] == [8, 12]
    np.testing.assert_allclose(np.sort(points[0].get_ydata()), np.sort(df["MIP3a"][:8]))
    assert [t.get_text() for t in ax.texts] == ["Mann-Whitney p = 0.012"]


def test_marker_plot_jitter_is_seeded():
    df = _marker_frame()
    x1 = marker_by_class_figure(df, value="MIP3a", seed=1).axes[0].lines[-1].get_xdata()
    x2 = marker_by_class_figure(df, value="MIP3a", seed=1).axes[0].lines[-1].get_xdata()
    x3 = marker_by_class_figure(df, value="MIP3a", seed=2).axes[0].lines[-1].get_xdata()
    np.testing.assert_array_equal(x1, x2)
    assert not np.array_equal(x1, x3)


def test_marker_plot_errors():
    df = _marker_frame()
    with pytest.raises(ValueError, match="not in the frame"):
        marker_by_class_figure(df, value="EPO")
    df.loc[0, "MIP3a"] = 0.0
    with pytest.raises(ValueError, match="positive"):
        marker_by_class_figure(df, value="MIP3a", log_scale=True)


# --- heatmap -------------------------------------------------------------------------------


def _panel() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(6)
    n, m = 12, 8
    cls = np.where(np.arange(n) < 5, "NR/ER", "durable")
    shift = np.outer(cls == "NR/ER", np.r_[np.full(3, 2.0), np.zeros(m - 3)])
    x = np.exp2(rng.normal(0, 1, (n, m)) + shift)
    idx = [f"P{i:02d}" for i in range(n)]
    return pd.DataFrame(x, index=idx, columns=[f"A{j}" for j in range(m)]), pd.Series(cls, index=idx)


def test_heatmap_structure_and_clustering():
    from scipy.cluster import hierarchy

    values, outcome = _panel()
    fig = fold_change_heatmap(values, outcome)
    labels = {ax.get_label() for ax in fig.axes}
    assert {"heatmap", "classes", "analyte dendrogram", "patient dendrogram", "colorbar"} <= labels
    analytes, patients = fig.cartscope_order
    lg = np.log2(values.to_numpy())
    assert analytes == [values.columns[i] for i in hierarchy.leaves_list(hierarchy.linkage(lg.T, "average"))]
    assert patients == [values.index[i] for i in hierarchy.leaves_list(hierarchy.linkage(lg, "average"))]
    heat = next(ax for ax in fig.axes if ax.get_label() == "heatmap")
    shown = heat.images[0].get_array()
    expect = np.log2(values.loc[patients, analytes].to_numpy()).T
    np.testing.assert_allclose(shown, expect)
    assert [t.get_text() for t in heat.get_yticklabels()] == analytes


def test_heatmap_group_by_class_orders_classes():
    values, outcome = _panel()
    fig = fold_change_heatmap(values, outcome, group_by_class=True, scale="fold_change")
    _, patients = fig.cartscope_order
    assert [outcome[p] for p in patients] == ["NR/ER"] * 5 + ["durable"] * 7
    assert "patient dendrogram" not in {ax.get_label() for ax in fig.axes}


def test_heatmap_rejects_non_positive_fold_change():
    values, outcome = _panel()
    values.iloc[0, 0] = -1.0
    with pytest.raises(ValueError, match="positive"):
        fold_change_heatmap(values, outcome)


def test_heatmap_deterministic_and_image(tmp_path):
    values, outcome = _panel()
    a, b = fold_change_heatmap(values, outcome), fold_change_heatmap(values, outcome)
    assert _svg_bytes(a) == _svg_bytes(b)
    assert _pdf_bytes(a) == _pdf_bytes(b)
    _check_image(a, "heatmap", tmp_path)


# --- Venn ----------------------------------------------------------------------------------


SETS3 = {"All": ["MIP3a", "Eotaxin", "EPO", "TSLP", "MDC"], "B-ALL": ["MIP3a", "Eotaxin", "IL-8"],
         "B-NHL": ["MIP3a", "Eotaxin", "EPO", "IL-10"]}


def test_venn_regions():
    r = venn_regions(SETS3)
    assert r[(0, 1, 2)] == ["Eotaxin", "MIP3a"]
    assert r[(0,)] == ["MDC", "TSLP"] and r[(0, 2)] == ["EPO"]
    assert r[(1,)] == ["IL-8"] and r[(2,)] == ["IL-10"] and r[(0, 1)] == [] and r[(1, 2)] == []


def test_venn_structure():
    fig = venn_figure(SETS3, show_members=0)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts[:3] == ["All\n(n = 5)", "B-ALL\n(n = 3)", "B-NHL\n(n = 4)"]
    assert sorted(texts[3:]) == sorted(["2", "1", "1", "0", "1", "0", "2"])
    assert len(ax.patches) == 6
    two = venn_figure({k: SETS3[k] for k in ("B-ALL", "B-NHL")})
    assert "Eotaxin\nMIP3a" in [t.get_text() for t in two.axes[0].texts]
    with pytest.raises(ValueError, match="2 or 3"):
        venn_figure({"a": [1]})


def test_venn_image(tmp_path):
    _check_image(venn_figure(SETS3), "venn", tmp_path)


# --- forest --------------------------------------------------------------------------------


def test_forest_from_cox(cox_result):
    fig = forest_figure(cox_result, labels={"ldh_high": "LDH > ULN"})
    ax = next(a for a in fig.axes if a.get_label() == "forest")
    txt = next(a for a in fig.axes if a.get_label() == "forest text")
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["LDH > ULN", "age_10y"]
    frame = cox_result.to_frame()
    squares = [ln for ln in ax.lines if ln.get_marker() == "s"]
    np.testing.assert_allclose([s.get_xdata()[0] for s in squares], frame["hazard_ratio"])
    texts = [t.get_text() for t in txt.texts]
    row = frame.iloc[0]
    assert f"{row.hazard_ratio:.2f} ({row.ci_lower:.2f}\u2013{row.ci_upper:.2f})" in texts
    assert style.p_text(row.p_value) in texts
    ref = [ln for ln in ax.lines if list(ln.get_xdata()) == [1.0, 1.0]]
    assert len(ref) == 1


def test_forest_generic_frame_and_arrows():
    df = pd.DataFrame({"term": ["a", "b"], "hr": [2.0, 0.5], "lower": [1.1, 0.01], "upper": [3.5, 2.0],
                       "p": [0.02, 0.4]})
    fig = forest_figure(df, xlim=(0.1, 8))
    ax = fig.axes[0]
    assert len(ax.texts) == 1  # one arrow: b's lower limit is off the axis
    with pytest.raises(ValueError, match="positive"):
        forest_figure(df.assign(hr=[0.0, 1.0]))


def test_forest_image(cox_result, tmp_path):
    _check_image(forest_figure(cox_result), "forest", tmp_path)


# --- swimmer -------------------------------------------------------------------------------


def _gid_points(ax, gid):
    lines = [ln for ln in ax.lines if ln.get_gid() == gid]
    return (np.concatenate([ln.get_xdata() for ln in lines]) if lines else np.array([]),
            np.concatenate([ln.get_ydata() for ln in lines]) if lines else np.array([]))


def test_swimmer_structure(endpoints):
    infusions = pd.DataFrame({"patient_id": ["p1", "p1", "p2", "p6"], "day": [0, 300, 0, 10]})
    fig = swimmer_figure(endpoints, infusions=infusions, unit="days")
    ax = fig.axes[0]
    assert ax.get_label() == "swimmer"
    order = [t.get_text() for t in ax.get_yticklabels()]
    assert order == ["p4", "p1", "p2", "p6", "p3", "p5"]
    bars = ax.patches
    np.testing.assert_allclose([b.get_width() for b in bars], [900, 700, 400, 365, 150, 60])
    pos = {p: i for i, p in enumerate(order)}
    x, y = _gid_points(ax, "infusion")
    assert sorted(zip(y, x)) == sorted([(pos["p1"], 0), (pos["p1"], 300), (pos["p2"], 0), (pos["p6"], 0)])
    x, y = _gid_points(ax, "relapse_neg")
    assert list(zip(y, x)) == [(pos["p1"], 200)]
    x, y = _gid_points(ax, "relapse_pos")
    assert list(zip(y, x)) == [(pos["p2"], 100)]
    x, y = _gid_points(ax, "relapse_unknown")  # p3 unknown antigen, p5 progression without response
    assert sorted(zip(y, x)) == sorted([(pos["p3"], 90), (pos["p5"], 40)])
    assert list(zip(*_gid_points(ax, "hsct"))) == [(120, pos["p4"])]
    assert sorted(_gid_points(ax, "death")[1]) == sorted([pos["p3"], pos["p5"]])
    assert list(_gid_points(ax, "lost")[1]) == [pos["p2"]]
    assert sorted(_gid_points(ax, "ongoing")[1]) == sorted([pos["p4"], pos["p1"], pos["p6"]])
    legend = _legend_texts(ax)
    assert legend[:2] == ["B-NHL", "B-ALL"]
    assert {"Relapse, CD19+", "Relapse, CD19\u2212", "HSCT", "Death", "Alive, in follow-up",
            "Lost to follow-up", "Response", "CAR-T infusion"} <= set(legend)


def test_swimmer_order_and_errors(endpoints):
    order = swimmer_order(endpoints)
    assert order["ongoing"].tolist() == [True, True, False, True, False, False]
    with pytest.raises(ValueError, match="derive_endpoints"):
        swimmer_figure(endpoints.drop(columns="last_contact_day"))


def test_swimmer_on_derived_endpoints():
    from cartscope.analysis.presets.li2023 import synthesize
    from cartscope.clinical.endpoints import derive_endpoints

    cohort = synthesize()
    ep = derive_endpoints(cohort)
    fig = swimmer_figure(ep, infusions=cohort.infusions)
    ax = fig.axes[0]
    assert len(ax.patches) == len(ep)
    x, _ = _gid_points(ax, "infusion")
    assert len(x) == len(cohort.infusions)


def test_swimmer_image(endpoints, tmp_path):
    _check_image(swimmer_figure(endpoints), "swimmer", tmp_path)


# --- kinetics ------------------------------------------------------------------------------


def _kinetics() -> pd.DataFrame:
    rng = np.random.default_rng(9)
    rows = []
    days = [0, 4, 7, 10, 14, 21, 28]
    for i in range(6):
        peak19, peak22 = 10 ** rng.uniform(4, 5), 10 ** rng.uniform(3, 4)
        for d in days:
            shape = np.exp(-((np.log1p(d) - np.log1p(10)) ** 2))
            rows.append((f"p{i}", 1, d, "cd19_car_copies", round(peak19 * shape, 1)))
            rows.append((f"p{i}", 1, d, "cd22_car_copies", round(peak22 * shape, 1) if d else 0.0))
    return pd.DataFrame(rows, columns=["patient_id", "infusion_no", "day", "measure", "value"])


def test_car_kinetics_structure():
    k = _kinetics()
    fig = car_kinetics_figure(k, window=(0, 28))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert _legend_texts(ax) == ["CD19 CAR (n = 6)", "CD22 CAR (n = 6)"]
    medians = [ln for ln in ax.lines if ln.get_linewidth() == pytest.approx(1.8)]
    assert len(medians) == 2 and len(ax.lines) == 6 * 2 + 2
    cd19 = k[k["measure"] == "cd19_car_copies"].groupby("day")["value"].median()
    np.testing.assert_allclose(medians[0].get_ydata(), cd19.to_numpy())
    # undetectable CD22 at day 0 is left out of the patient lines, and of the drawn median
    thin22 = [ln for ln in ax.lines[6:12]]
    assert all(min(ln.get_xdata()) == 4 for ln in thin22)
    assert np.isnan(medians[1].get_ydata()[0])


def test_daily_summary_quantiles():
    d = pd.DataFrame({"series": "s", "day": [1, 1, 1, 1, 2, 2], "value": [1.0, 2.0, 3.0, 10.0, 5.0, 6.0],
                      "patient_id": list("abcdab")})
    s = daily_summary(d, min_patients=3)
    assert s["day"].tolist() == [1]
    assert s.loc[0, ["q1", "median", "q3"]].tolist() == [1.75, 2.5, 4.75]  # R quantile type 7


def test_cytokine_course_groups():
    rng = np.random.default_rng(12)
    rows = [(f"p{i}", d, a, float(10 ** rng.uniform(0, 3)), "pg/mL", "patient")
            for i in range(8) for d in (0, 3, 5, 7, 14) for a in ("IL-6", "IFN-g")]
    rows.append(("hd1", 0, "IL-6", 1e6, "pg/mL", "healthy_donor"))
    rows = [(p, d, "il6" if a == "IL-6" else a, v, u, r) for p, d, a, v, u, r in rows]  # canonical
    labs = pd.DataFrame(rows, columns=["patient_id", "day", "analyte", "value", "unit", "role"])
    groups = {f"p{i}": ("NR/ER" if i < 3 else "durable") for i in range(8)}
    fig = cytokine_course_figure(labs, analytes=["IL-6", "IFN-g"], groups=groups,
                                 group_order=["NR/ER", "durable"])
    assert [ax.get_label() for ax in fig.axes] == ["IL-6", "IFN-g"]
    ax = fig.axes[0]
    # one legend for all panels, above them (a figure legend), where it covers no course
    assert ax.get_legend() is None
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["NR/ER (n = 3)", "durable (n = 5)"]
    assert ax.get_ylabel() == "IL-6 (pg/mL)"
    assert max(max(ln.get_ydata()) for ln in ax.lines) < 1e6  # healthy donor left out
    with pytest.raises(ValueError, match="no rows for analyte"):
        cytokine_course_figure(labs, analytes=["IL-10"])


def test_kinetics_image(tmp_path):
    _check_image(car_kinetics_figure(_kinetics(), window=(0, 28)), "kinetics", tmp_path)


# --- relapse timing ------------------------------------------------------------------------


def test_relapse_timing(endpoints):
    fig = relapse_timing_figure(endpoints)
    ax = fig.axes[0]
    tab = fig.cartscope_counts
    assert list(tab.index) == ["0-6", "6-12", "12-18", "18-24", ">24"]
    assert tab["B-ALL"].tolist() == [1, 1, 0, 0, 0] and tab["B-NHL"].tolist() == [1, 0, 0, 0, 0]
    assert [p.get_height() for p in ax.patches] == [1, 1, 0, 0, 0, 1, 0, 0, 0, 0]
    assert _legend_texts(ax) == ["B-ALL (n = 2)", "B-NHL (n = 1)"]
    pct = relapse_timing_figure(endpoints, percent=True).axes[0]
    assert [p.get_height() for p in pct.patches][:2] == [50.0, 50.0]
    with pytest.raises(ValueError, match="relapse_bin"):
        relapse_timing_figure(endpoints.drop(columns="relapse_bin"))


def test_relapse_image(endpoints, tmp_path):
    _check_image(relapse_timing_figure(endpoints), "relapse", tmp_path)

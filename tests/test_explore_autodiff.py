"""Chapter 6's helpers: the seeds' slips as derivations, the heatmap, the recorded graph, the timing."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from backprop_lib import autodiff as ad  # noqa: E402
from backprop_lib.explore import autodiff as ex  # noqa: E402
from backprop_lib.gradcheck import check_derivation  # noqa: E402
from backprop_lib.models import ALL  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("batch", [1, 3, 6])
def test_each_derivation_without_its_slip_is_right(name, batch):
    params, data = ALL[name].example(np.random.default_rng(4), batch)
    check_derivation(ALL[name].loss, ex.DERIVATIONS[name], params, data).assert_ok()


@pytest.mark.parametrize("key", [k for k, s in ex.SLIPS.items() if s.slip not in ("no batch sum", "brackets")])
def test_each_slip_spoils_exactly_the_parameters_it_names(key):
    slip = ex.SLIPS[key]
    report = ex.slip_report(key, batch=6)
    wrong = {r.name for r in report.rows if not report.entry_ok(r.name).all()}
    assert wrong == set(slip.hits), (key, wrong)
    assert report_at_batch_1_ok(key) == slip.hidden_at_batch_1


def report_at_batch_1_ok(key: str) -> bool:
    return ex.slip_report(key, batch=1).ok


def test_the_brackets_pass_at_batch_1_are_wrong_at_batch_d_and_raise_otherwise():
    key = "frobenius: brackets"
    assert ex.slip_report(key, 1).ok
    report = ex.slip_report(key, 3)  # N = d = 3: X^T (...) W2^T has the shape of sigmoid'(h)
    assert [r.name for r in report.rows if not report.entry_ok(r.name).all()] == ["W1"]
    with pytest.raises(ValueError, match="broadcast"):
        ex.slip_report(key, 5)


def test_the_literal_batch_formula_is_refused_for_its_shape():
    with pytest.raises(ValueError, match="sum over the batch missing"):
        ex.slip_report("frobenius: no batch sum", 4)


def test_a_sign_and_a_missing_mean_have_uniform_errors():
    assert np.allclose(np.concatenate([r.cs_error.ravel() for r in ex.slip_report("conv_mse: sign", 3).rows]), 2.0)
    errs = np.concatenate([r.cs_error.ravel() for r in ex.slip_report("conv_mse: no 1/n", 4).rows])
    np.testing.assert_allclose(errs, 3 / 4, rtol=1e-12)  # B times too large: |B g - g| / |B g| = (B - 1)/B


def test_heatmap_frames_exactly_the_wrong_entries():
    report = ex.slip_report("softmax_ce: misplaced entry", 4)
    fig = ex.derivation_heatmap(report, "t")
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title().split()[0] for ax in panels] == ["W1", "b1", "W2", "b2"]
    framed = sum(isinstance(p, Rectangle) and p.get_edgecolor()[:3] == (0, 0, 0) for ax in panels for p in ax.patches)
    assert framed == sum(len(report.wrong_entries(r.name)) for r in report.rows) > 0
    assert panels[0].images[0].get_array().shape == (5, 4) and panels[1].images[0].get_array().shape == (1, 4)
    assert "all right" in panels[2].get_title()


def test_slip_figure_shows_the_refusal_as_a_message():
    fig = ex.slip_figure("frobenius: no batch sum", 3)
    texts = " ".join(" ".join(t.get_text().split()) for ax in fig.axes for t in ax.texts)
    assert "refused" in texts and "shape (3, 5)" in texts
    fig = ex.slip_figure("three_layer: transpose", 3)
    assert len([ax for ax in fig.axes if ax.images]) == 6


def test_graph_layout_has_every_node_and_edge_with_values_and_gradients():
    params, data = ALL["conv_mse"].example(np.random.default_rng(0), 1)
    loss, leaves = ad.record("conv_mse", params, data)
    nodes, edges, kinds = ex.graph_layout(loss)
    order = ad.topological_order(loss)
    assert len(nodes) == len(order) and len(edges) == sum(len(n.parents) for n in order)
    assert sorted(kinds.values()).count("param") == 3 and sorted(kinds.values()).count("data") == 2
    labels = [label for _, _, label in nodes.values()]
    assert any(label.startswith("w\n") and f"{params['w'][0, 0]:.2f}" in label
               and f"{leaves['w'].grad[0, 0]:.2f}" in label for label in labels)
    assert sum(y == 0.0 for _, y, _ in nodes.values()) == sum(1 for n in order if n.parents)
    fig = ex.draw_recorded_graph(loss, highlight_to=leaves["w"])
    red = [a for a in fig.axes[0].texts if getattr(a, "arrow_patch", None) is not None
           and a.arrow_patch.get_linewidth() > 2]
    assert len(red) == 8  # w -> conv2d -> + -> sigmoid -> * -> sum -> - -> square -> mean


def test_compare_all_rows_and_reports():
    rows, reports = ex.compare_all(seed=0, batch=2)
    assert len(rows) == sum(len(m.PARAMS) for m in ALL.values()) and len(reports) == 2 * len(ALL)
    assert all(r.ok for r in reports) and max(r.hand_engine for r in rows) < 1e-10
    table = ex.markdown_table(rows)
    assert table.count("\n") == len(rows) + 1 and "`conv_mse` | `w`" in table


def test_hand_vs_engine_is_relative_with_a_floor():
    assert ex.hand_vs_engine(np.array([1.0, 1e-20]), np.array([1.0, -1e-20])) < 1e-11
    assert ex.hand_vs_engine(np.array([1.0, 2.0]), np.array([1.0, 2.002])) == pytest.approx(1e-3, rel=1e-3)


def test_paired_times_and_graph_size():
    calls = {"f": 0, "g": 0}

    def f():
        calls["f"] += 1

    def g():
        calls["g"] += 1

    tf, tg = ex.paired_times(f, g, repeats=4, number=2)
    assert calls == {"f": 9, "g": 9} and tf >= 0 and tg >= 0
    t = ad.tensor(np.ones((2, 3)))
    loss = ad.tanh(t).sum()
    loss.backward()
    assert ex.graph_size(loss) == (3, 48 + 48 + 48 + 48 + 8 + 8)

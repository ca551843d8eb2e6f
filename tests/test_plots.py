"""ibcore.plots: the package re-exports its figures; the Cluttered MNIST figures on synthetic results."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ibcore import experiments, plots  # noqa: E402
from ibcore.cache import encode_array  # noqa: E402

SIZES = [48, 24, 12, 6]
OLD_SCORE = {"argmax_in_box": 0.5, "argmax_chance": 0.03, "mass_ratio": 2.0}
NEW_SCORE = {**OLD_SCORE, "argmax_in_box_margin": 0.4, "argmax_chance_margin": 0.04, "mass_ratio_margin": 2.2,
             "margin": 8.0}


def cluttered_result(new: bool = True) -> dict:
    rng = np.random.default_rng(0)
    rows = []
    for k, beta in enumerate([0.0, 0.5]):
        row = dict(beta=beta, test_error=0.1, map_sizes=SIZES,
                   maps=[encode_array(rng.random((2, s, s)) * 10.0 ** (1 - k) * (j + 1)) for j, s in enumerate(SIZES)],
                   localisation=[NEW_SCORE if new else OLD_SCORE] * 4)
        if new:
            row["ink_localisation"] = [NEW_SCORE] * 4
        rows.append(row)
    result = dict(rows=rows, profile="quick", config={"epochs": 2},
                  data={"dataset": "Cluttered MNIST", "n_train": 10, "n_test": 2},
                  examples=dict(images=encode_array(rng.random((2, 96, 96))), labels=[1, 2],
                                boxes=[[10, 20, 30, 40], [50, 50, 70, 80]]))
    if new:
        result["provenance"] = dict(commit="abc1234def567", device="cpu", ibcore_version="0.1.0",
                                    torch_version="2.3.0", seconds=1.0)
    return result


def test_every_public_name_is_reexported():
    for module in (plots.style, plots.theory, plots.mnist, plots.vae, plots.cluttered, plots.cifar,
                   plots.pixelcnn):
        for name in dir(module):
            obj = getattr(module, name)
            if name.startswith("_") or getattr(obj, "__module__", module.__name__) != module.__name__:
                continue
            if callable(obj) or name.isupper():
                assert getattr(plots, name) is obj and name in plots.__all__, name


def test_result_provenance_names_device_and_commit():
    assert plots.result_provenance(cluttered_result()).endswith("2 test · cpu · commit abc1234")
    assert plots.result_provenance(cluttered_result(new=False)).endswith("2 test")


def layer_norms(fig: plt.Figure) -> dict[str, list]:
    """Title of each layer column → the norm of its (first-row) image."""
    return {ax.get_title(): ax.images[0].norm for ax in fig.axes if ax.get_title().startswith("layer")}


@pytest.mark.parametrize("scale", ["log", "linear"])
def test_kl_maps_show_every_layer_on_one_scale_per_layer(scale):
    result = cluttered_result()
    frames = [plots.plot_kl_maps(result, row["beta"], scale=scale) for row in result["rows"]]
    norms = [layer_norms(fig) for fig in frames]
    assert list(norms[0]) == ["layer 1: 48×48", "layer 2: 24×24", "layer 3: 12×12", "layer 4: 6×6"]
    for title in norms[0]:
        assert norms[0][title].vmin == norms[1][title].vmin == 0
        assert norms[0][title].vmax == pytest.approx(norms[1][title].vmax)  # shared across β
    vmaxes = [norms[0][title].vmax for title in norms[0]]
    assert vmaxes == sorted(vmaxes) and vmaxes[0] < vmaxes[-1]  # one scale per layer, not one for all
    labels = [ax.get_xlabel() for ax in frames[0].axes if ax.get_xlabel()]
    assert labels == ["KL (nats per location)"] * 4
    assert len(layer_norms(plots.plot_kl_maps(result, 0.5, layers=[2, 4]))) == 2
    plt.close("all")


def test_kl_maps_bad_arguments():
    with pytest.raises(ValueError, match="no run with beta"):
        plots.plot_kl_maps(cluttered_result(), 3.0)
    with pytest.raises(ValueError, match="numbered 1 to 4"):
        plots.plot_kl_maps(cluttered_result(), 0.5, layers=[5])
    with pytest.raises(ValueError, match="scale"):
        plots.plot_kl_maps(cluttered_result(), 0.5, scale="sqrt")


@pytest.mark.parametrize("new, n_legend", [(True, 6), (False, 2)])
def test_localisation_plot_draws_what_the_result_has(new, n_legend):
    fig = plots.plot_localisation(cluttered_result(new))
    assert len(fig.legends[0].get_texts()) == n_legend
    assert fig.axes[0].get_ylabel().startswith("argmax inside the box") and fig.axes[-1].get_xlabel() == "β"
    plt.close(fig)


def test_text_is_never_smaller_than_small():
    smallest = matplotlib.font_manager.FontProperties(size="small").get_size_in_points()
    for fig in (plots.plot_kl_maps(cluttered_result(), 0.0), plots.plot_localisation(cluttered_result())):
        sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        assert min(sizes) >= smallest - 1e-9
    plt.close("all")


def cifar_results() -> tuple[dict, dict]:
    meta = dict(profile="quick", config={"epochs": 2}, provenance=dict(device="cpu", commit="abc1234"),
                data={"dataset": "CIFAR-10 (standardised, ZCA)", "n_train": 10, "n_test": 5})
    info = lambda f: [dict(total=100 / f, units=100, per_unit=1 / f), dict(total=50 / f, units=50, per_unit=1 / f)]
    filters = dict(meta, rows=[dict(dropout=d, filter_fraction=f, test_error=0.5 - f / 10, train_error=0.3,
                                    **({"information": info(f)} if d == "information" else {}))
                               for f in (0.1, 0.25) for d in ("none", "binary", "information")])
    beta = dict(meta, rows=[dict(beta=b, test_error=0.4, total_correlation=10 / b) for b in (3.0, 0.3, 1.0)])
    return filters, beta


def test_cifar_figures_draw_one_line_per_method_layer_and_measure():
    filters, beta = cifar_results()
    fig = plots.plot_error_vs_filters(filters)
    [ax] = fig.axes
    assert len(ax.lines) == 3 and [t.get_text() for t in ax.get_xticklabels()] == ["10", "25"]
    assert "test error (%)" in ax.get_ylabel()
    fig = plots.plot_information_per_layer(filters)
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    assert list(fig.axes[0].lines[0].get_ydata()) == [1000.0, 400.0]  # layer 1 totals at 10 % and 25 %
    fig = plots.plot_tc_vs_beta(beta)
    assert list(fig.axes[1].lines[0].get_xdata()) == [0.3, 1.0, 3.0]  # sorted by β
    assert "nats" in fig.axes[1].get_ylabel()
    with pytest.raises(ValueError, match="no Information Dropout rows"):
        plots.plot_information_per_layer(dict(filters, rows=[r for r in filters["rows"] if "information" not in r]))
    plt.close("all")


def test_table_shows_readable_headers_with_units_and_no_meaningless_index() -> None:
    import pandas as pd

    frame = pd.DataFrame({"test_error_pct": [2.0, 3.5], "qq_r2": [0.99, 0.9], "some_new_value": [1, 2]},
                         index=pd.Index(["none", "information"], name="dropout"))
    html = plots.table(frame).to_html()
    assert "test error (%)" in html and "Q–Q R²" in html and "some new value" in html
    assert "test_error_pct" not in html and ">none<" not in html  # the index is hidden by default
    shown = plots.table(frame, index=True).to_html()
    assert ">none<" in shown and ">dropout<" in shown
    betas = plots.table(pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([0.0, 0.25], name="beta")), index=True).to_html()
    assert ">0<" in betas and ">0.25<" in betas and "0.000000" not in betas


def test_table_formats_by_column_with_the_code_name() -> None:
    import pandas as pd

    html = plots.table(pd.DataFrame({"gap": [0.0, 3e-12], "x": [1.23456, 2.0]}), formats={"gap": "{:.1g}"}).to_html()
    assert ">0<" in html and ">3e-12<" in html and ">1.23<" in html


def test_summary_tables_give_errors_in_percent() -> None:
    summary = {"summary": [{"activation": "relu", "prior": "log-uniform", "test_error": 0.0213}]}
    table = experiments.summary_table(summary)
    assert table["test_error_pct"].tolist() == [pytest.approx(2.13)] and "test_error" not in table


def test_glue_keys_and_frames_name_each_number_by_its_row_and_column() -> None:
    import pandas as pd

    assert plots.glue_key("ch11", "Information − binary", 3) == "ch11-information-binary-3"
    frame = pd.DataFrame({"none": [20.6, 7.5], "information": [24.3, float("nan")], "prior": ["a", "b"]}, index=[3, 8])
    glued = plots.glue_frame("ch11", frame)
    assert glued == {"ch11-3-none": 20.6, "ch11-3-information": 24.3, "ch11-8-none": 7.5}
    assert all(type(value) is float for value in glued.values())  # {glue:text} formats Python floats only


@pytest.mark.parametrize("values, message", [
    ({"a": float("nan")}, "finite"), ({"a": float("inf")}, "finite"), ({"a": "2.0"}, "finite"),
    ({"a": True}, "finite"), ({"A": 1.0, "a": 2.0}, "two numbers"),
])
def test_glue_numbers_rejects_what_the_prose_cannot_show(values, message) -> None:
    with pytest.raises(ValueError, match=message):
        plots.glue_numbers("ch", values)

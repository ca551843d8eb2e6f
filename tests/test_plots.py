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
    assert plots.result_provenance(cluttered_result()).endswith("2 test · cpu · commit abc1234 · earlier ibcore sources")
    assert plots.result_provenance(cluttered_result(new=False)).endswith("2 test")


def test_result_provenance_says_when_a_result_predates_todays_sources():
    from ibcore.cache import source_hash

    today = cluttered_result()
    today["provenance"]["source_hash"] = source_hash()
    assert plots.result_provenance(today).endswith("commit abc1234")
    today["provenance"]["source_hash"] = "0" * 16
    assert plots.result_provenance(today).endswith("· earlier ibcore sources")


@pytest.mark.parametrize("threads, said", [(1, "cpu (1 thread)"), (2, "cpu (2 threads)")])
def test_provenance_names_1_thread_in_the_singular(threads: int, said: str, monkeypatch) -> None:
    """Issue 25 item 6: "cpu (1 threads)". New results record the singular; old ones are shown with it."""
    import torch

    from ibcore.cache import device_name

    monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
    assert device_name("cpu") == said
    result = cluttered_result()
    result["provenance"]["device"] = said.replace("thread)", "threads)")  # as results before issue 25 say it
    assert f"2 test · {said} · commit abc1234" in plots.result_provenance(result)


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
    assert labels == ["KL per location\n(nats)"] * 4
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


def test_a_repeated_beta_is_one_row_and_one_point_at_its_mean_over_seeds():
    """Issue 26: cluttered-mnist repeats β = 0 and the largest β at a second seed: the table, the localisation
    plot and the numbers the chapter quotes read each β once, at the mean over its seeds."""
    result = cluttered_result()
    for row in result["rows"]:
        row["seed"] = 0
    better = {k: (v + 0.2 if k in ("argmax_in_box", "mass_ratio") else v) for k, v in NEW_SCORE.items()}
    result["rows"].append(dict(result["rows"][1], seed=1, test_error=0.2, localisation=[better] * 4,
                               clean_train_error=0.05))
    means = experiments.cluttered.by_beta(result)
    assert [(r["beta"], r["seeds"]) for r in means] == [(0.0, 1), (0.5, 2)]
    assert means[1]["test_error"] == pytest.approx(0.15) and "clean_train_error" not in means[1]
    assert means[1]["localisation"][1]["mass_ratio"] == pytest.approx(NEW_SCORE["mass_ratio"] + 0.1)
    assert means[1]["maps"] is result["rows"][1]["maps"]                      # the first seed's maps
    table = experiments.localisation_table(result)
    assert table["seeds"].tolist() == [1] * 4 + [2] * 4 and len(table) == 8
    fig = plots.plot_localisation(result)
    assert all(list(line.get_xdata()) == [0.0, 0.5] for line in fig.axes[0].lines if len(line.get_xdata()) > 1)
    plt.close(fig)


def mnist_result(widths=(512,), profile: str = "cpu") -> dict:
    """An mnist-mlp / width-sweep-like result: 4 kinds × widths × 2 seeds, 3 epochs."""
    rows = [dict(dropout=kind, width=w, hidden=[w] * 3, seed=seed, epochs=3, test_error=0.02 + 0.01 * k / w,
                 train_error=0.01, history=dict(test_error=[0.05, 0.03, 0.02 + 0.001 * seed],
                                                lz=[0.05, 0.04, 0.03] if kind == "information" else [0.0] * 3))
            for k, kind in enumerate(("none", "binary", "lognormal", "information")) for w in widths for seed in (0, 1)]
    return dict(rows=rows, profile=profile, config={"epochs": 3, "seeds": [0, 1]},
                data={"dataset": "MNIST", "n_train": 22699, "n_test": 10000})


def priors_result() -> dict:
    edges = np.linspace(-4, 2, 31).tolist()
    hist = dict(edges=edges, counts=np.exp(-np.linspace(-3, 3, 30) ** 2).tolist())
    fit = dict(mu=-0.5, sigma=0.7, ks=0.02, qq_r2=0.99)
    rows = [dict(activation="relu", histogram=hist, fit=fit, zero_fraction=0.4, seed=0),
            dict(activation="softplus", histogram=hist, fit=fit, zero_fraction=0.0, seed=0,
                 learned_prior=dict(mu=[0.0, 0.1], sigma=[1.0, 0.9]))]
    return dict(rows=rows, profile="cpu", config={"epochs": 10, "seed": 0},
                data={"dataset": "MNIST", "n_train": 22699, "n_test": 10000})


def book_figures() -> dict[str, tuple[plt.Figure, bool]]:
    """Every figure of plots.mnist, plots.cluttered and plots.theory, and whether the book saves it
    as an inline figure (cropped to its content, 0.1 in padding) or as a slider frame (as drawn)."""
    import torch

    from ibcore import discrete_ib, metrics

    curve = discrete_ib.ib_curve(discrete_ib.noisy_bit(flip=0.2, n_obs=3), np.geomspace(0.02, 1.0, 8), n_z=4)
    betas = np.linspace(0.01, 0.9, 10)
    x, p = [0.5, 1.0, 3.0], [0.2, 0.5, 0.3]
    y = np.linspace(-4, 9, 200)
    inline = dict(
        training_curves=plots.plot_training_curves(mnist_result()),
        error_vs_width=plots.plot_error_vs_width(mnist_result((3, 8, 32))),
        activation_priors=plots.plot_activation_priors(priors_result()),
        localisation=plots.plot_localisation(cluttered_result()),
        cluttered_samples=plots.plot_cluttered_samples(torch.rand(6, 1, 96, 96), torch.arange(6),
                                                       torch.tensor([[10, 10, 38, 38]] * 6)),
        ib_curve=plots.plot_ib_curve(curve, title="IB curve of the 3-sensor example (iterative IB, n_z = 4)"),
        stochastic_advantage=plots.plot_stochastic_advantage(betas, betas / 2, betas / 1.5, theory=(0, 0.4)),
        tc_check=plots.plot_tc_check([dict(min_kl=0.1 * k, i_plus_tc=0.1 * k) for k in range(1, 5)]),
        dropout_bound=plots.plot_dropout_bound(betas, {"Gaussian dropout: I(X;Y)": betas, "bound": betas + 1}),
    )
    frames = dict(
        kl_maps=plots.plot_kl_maps(cluttered_result(), 0.5),
        kl_maps_two_layers=plots.plot_kl_maps(cluttered_result(), 0.5, layers=[1, 2]),
        ib_frame=plots.plot_ib_frame(curve[3], curve),
        kl_priors=plots.plot_kl_priors(metrics.noisy_activations("relu", 0.7, n_samples=5000, seed=1),
                                       metrics.noisy_activations("softplus", 0.7, n_samples=5000, seed=1), 0.7),
        dropout_density=plots.plot_dropout_density(y, np.exp(-y ** 2), x, p, p=0.2, sigma=0.5, bound=1.0, mi=0.5),
    )
    return {**{k: (f, True) for k, f in inline.items()}, **{k: (f, False) for k, f in frames.items()}}


def shown(fig: plt.Figure, inline: bool) -> tuple[float, float, float]:
    """(width shown on the page in CSS px, smallest text shown in CSS px, how far content runs past the
    canvas in inches): an inline figure is cropped to its content, a frame shown as drawn; either is
    scaled down to the column inside a figure's padding (FIGURE_PX) when wider."""
    fig.canvas.draw()
    content = fig.get_tightbbox(fig.canvas.get_renderer())
    canvas_w, canvas_h = fig.get_size_inches()
    width = (content.width + 2 * plt.rcParams["savefig.pad_inches"] if inline else canvas_w) * plots.DPI
    scale = min(1.0, plots.FIGURE_PX / width)
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text() and t.get_visible()]
    outside = max(-content.x0, -content.y0, content.x1 - canvas_w, content.y1 - canvas_h, 0.0)
    return width, min(sizes) * plots.DPI / 72 * scale, outside


def test_every_figure_fills_the_text_column_with_text_of_at_least_11_px():
    """Issue 21: figures at the column's width (±10 %), every text ≥ 11 px as shown, nothing cut off."""
    problems = {}
    for name, (fig, inline) in book_figures().items():
        width, smallest, outside = shown(fig, inline)
        if fig.get_figwidth() != pytest.approx(plots.FIGURE_WIDTH) or abs(width / plots.COLUMN_PX - 1) > 0.1 \
                or smallest < plots.MIN_TEXT_PX or (not inline and outside > 0.02):
            problems[name] = dict(width_px=round(width), smallest_px=round(smallest, 1), outside_in=round(outside, 2))
    plt.close("all")
    assert not problems, problems


def committed_figures() -> dict[str, tuple[plt.Figure, bool]]:
    """The figures chapters 15, 16, 13 and 21 draw from the committed results (their real provenance
    lines are the longest: device, commit, "earlier ibcore sources"), inline or as slider frames."""
    def best(name: str) -> dict:
        return experiments.committed(name, profiles=("full", "gpu", "cpu"))

    filters, beta, occluded, elbo, vae_beta, pixelcnn = (best(n) for n in (
        "cifar-filters", "cifar-beta", "occluded-cifar", "vae-elbo", "vae-beta", "pixelcnn-bottleneck"))
    first_p = min(r["p"] for r in pixelcnn["rows"] if r["bottleneck"] == "gaussian")
    inline = dict(error_vs_filters=plots.plot_error_vs_filters(filters),
                  information_per_layer=plots.plot_information_per_layer(filters),
                  tc_vs_beta=plots.plot_tc_vs_beta(beta), occlusion=plots.plot_occlusion(occluded),
                  vae_elbo=plots.plot_vae_elbo(elbo), vae_images=plots.plot_vae_images(elbo),
                  tradeoff=plots.plot_tradeoff(pixelcnn))
    frames = dict(vae_beta=plots.plot_vae_beta_frame(vae_beta, 1.0),
                  pixelcnn_frame=plots.plot_pixelcnn_frame(pixelcnn, "gaussian", first_p))
    return {**{k: (f, True) for k, f in inline.items()}, **{k: (f, False) for k, f in frames.items()}}


def test_the_committed_results_figures_fill_the_column_with_their_whole_provenance_line():
    """A long provenance line is broken in two, not left to run past the edge (which widened the
    occlusion figure to 882 px on the page and shrank its text below 11 px)."""
    problems = {}
    for name, (fig, inline) in committed_figures().items():
        width, smallest, outside = shown(fig, inline)
        if abs(width / plots.COLUMN_PX - 1) > 0.1 or smallest < plots.MIN_TEXT_PX or outside > 0.02:
            problems[name] = dict(width_px=round(width), smallest_px=round(smallest, 1), outside_in=round(outside, 2))
    plt.close("all")
    assert not problems, problems


def test_the_figure_width_is_the_measured_column_at_the_books_resolution():
    assert plots.FIGURE_WIDTH * plots.DPI == plots.FIGURE_PX == plots.COLUMN_PX - 16 == 768
    assert matplotlib.font_manager.FontProperties(size="small").get_size_in_points() * plots.DPI / 72 \
        >= plots.MIN_TEXT_PX  # SMALLEST is large enough at the book's resolution


def test_one_palette_tells_every_kind_of_dropout_apart():
    styles = plots.DROPOUT_STYLES
    assert set(styles) == {"none", "binary", "lognormal", "information", "gaussian", "variational"}
    assert len({s.colour for s in styles.values()}) == len(styles)
    assert len({s.label for s in styles.values()}) == len(styles)
    assert len({(s.marker, s.linestyle, s.filled) for s in styles.values()}) >= 5
    assert plots.METHOD_STYLES["information"] == (styles["information"].colour, styles["information"].marker)
    assert plots.METHOD_LABELS["none"] == styles["none"].label
    assert plots.dropout_style("something new").label == "something new"


def test_training_curves_tell_overlapping_lines_apart_by_marker_and_line_style():
    fig = plots.plot_training_curves(mnist_result())
    lines = {line.get_label(): line for line in fig.axes[0].lines if not line.get_label().startswith("_")}
    info, none = lines["Information Dropout"], lines["no dropout"]
    assert info.get_marker() != none.get_marker() and info.get_linestyle() != none.get_linestyle()
    assert info.get_color() == plots.DROPOUT_STYLES["information"].colour
    plt.close(fig)


def test_provenance_names_profile_epochs_seeds_and_data_and_flags_quick_runs():
    assert plots.result_provenance(mnist_result()).startswith(
        "cpu profile · 3 epochs · 2 seeds · 22,699 MNIST train images · 10,000 test")
    quick = plots.result_provenance(mnist_result(profile="quick"))
    assert quick.startswith(f"{plots.SMOKE_RUN} (quick profile) · ") and "pipeline check" in quick
    assert plots.seed_count(priors_result()) == 1
    fig = plots.plot_training_curves(mnist_result(profile="quick"))
    assert any(plots.SMOKE_RUN in t.get_text() for t in fig.texts)  # the plot itself says so
    plt.close(fig)


def test_a_provenance_line_too_long_for_a_frame_is_broken_in_two_and_stays_inside():
    fig, _ = plt.subplots(figsize=(5, 3))
    plots.add_provenance(fig, " · ".join(["cpu profile", "16 epochs", "1 seed", "6,000 Cluttered MNIST train images",
                                          "1,000 test", "cpu (1 threads)", "commit 6feef03"]), wrap=True)
    assert plots.provenance_lines(fig) == 3
    fig.canvas.draw()
    assert fig.texts[-1].get_window_extent().x1 <= fig.bbox.width * 1.02
    plt.close(fig)


def test_one_rounding_rule_rounds_the_raw_value_once():
    assert plots.number(12.4537) == "12.5"  # chapter 14 and the results page both print 12.5
    assert plots.number(12.45) == "12.4"  # why a table's rounded value must not be rounded again
    assert plots.number(-0.0123, 2) == "−0.01"


def test_kl_map_frames_describe_themselves_and_pair_images_when_layers_are_few():
    fig = plots.plot_kl_maps(cluttered_result(), 0.5)
    alt = plots.alt_text(fig)
    assert alt.startswith("β = 0.5, test error 10.0 %: 2 test images") and "per layer: 2.0, 2.0, 2.0, 2.0" in alt
    two = plots.plot_kl_maps(cluttered_result(), 0.5, layers=[1, 2])
    inputs = [ax for ax in two.axes if ax.get_title() == "input (digit box)"]
    assert len(inputs) == 2 and two.get_figheight() < fig.get_figheight()  # two images side by side
    plt.close("all")


def test_alt_text_falls_back_to_titles_and_labels():
    fig, ax = plt.subplots()
    ax.set(title="test error", xlabel="epoch", ylabel="error (%)")
    assert plots.alt_text(fig) == "test error: error (%) against epoch"
    assert plots.alt_text(plots.set_alt(fig, "a given text")) == "a given text"
    plt.close(fig)


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
    written = pd.DataFrame({"−H − kl.log_uniform(α, 0.7)": [1.0], "train_bottleneck_kl": [2.0]})
    html = plots.table(written).to_html()  # text is shown as written, a header of HEADERS once
    assert "kl.log_uniform(α, 0.7)" in html and "Σⱼ KLⱼ (nats, train)" in html
    assert plots.readable_header(plots.readable_header("train_bottleneck_kl")) == "Σⱼ KLⱼ (nats, train)"
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


@pytest.mark.parametrize("draw", [lambda r: plots.plot_tradeoff(r),
                                  lambda r: plots.plot_pixelcnn_frame(r, "variational", 0.01)],
                         ids=["trade-off", "slider frame"])
def test_the_tradeoffs_p_and_beta_labels_do_not_overlap(draw) -> None:
    """Issue 25 item 6: chapter 21's β labels overlapped near the origin. On the committed result, no
    label's box (as the renderer sets it) meets another's or the legend's, and each lies inside the axes."""
    from matplotlib.text import Text

    from ibcore.plots.pixelcnn import POINT_LABEL

    fig = draw(experiments.committed("pixelcnn-bottleneck"))
    ax = fig.axes[-1]
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    labels = [t for t in ax.texts if t.get_gid() == POINT_LABEL]
    boxes = [Text.get_window_extent(t, renderer) for t in labels]
    assert len(boxes) == 9  # four p, five β
    others = boxes + [ax.get_legend().get_window_extent(renderer)]
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(other) for j, other in enumerate(others) if j != i), labels[i].get_text()
        assert ax.get_window_extent(renderer).contains(box.x0, box.y0) and \
            ax.get_window_extent(renderer).contains(box.x1, box.y1), labels[i].get_text()
    plt.close(fig)


def test_provenance_says_whether_the_epochs_are_the_papers():
    """Issue 26 item 1: each figure's provenance says which schedule is the paper's own and which is reduced."""
    assert "80 epochs (the paper's)" in plots.provenance("cpu", epochs=80, paper_epochs=80)
    assert "15 of the paper's 80 epochs" in plots.provenance("cpu", epochs=15, paper_epochs=80)
    assert "3 epochs ·" in plots.provenance("quick", epochs=3, paper_epochs=80, seeds=1)  # a check, not a schedule
    assert plots.paper_epochs({"name": "vae-elbo-k1"}) == 300 and plots.paper_epochs({"name": "nope"}) is None
    # every experiment's full profile is the paper's schedule, also where the cpu profile cuts it short
    assert plots.paper_epochs({"name": "vae-elbo-k2"}) == 300 > experiments.get("vae-elbo-k2").config("cpu")["epochs"]

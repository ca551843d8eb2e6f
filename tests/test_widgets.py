"""ibcore.widgets: the β sliders (fast, no browser; tests/e2e drives them in Chromium)."""
from __future__ import annotations

import base64
import html
import io
import math
import re
import struct

import ipywidgets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from ipywidgets.embed import embed_data  # noqa: E402

from ibcore.plots.style import set_alt  # noqa: E402
from ibcore.widgets import PNG_SIGNATURE, beta_slider, live_beta_slider  # noqa: E402


def figure(width_in: float = 4.0, height_in: float = 3.0, title: str = "") -> plt.Figure:
    fig, ax = plt.subplots(figsize=(width_in, height_in))
    ax.plot([0, 1], [0, 1])
    ax.set_title(title)
    return fig


def png(colour: str) -> bytes:
    """A tiny distinct PNG per colour."""
    fig = plt.figure(figsize=(1, 1), facecolor=colour)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=10)
    plt.close(fig)
    return buffer.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


def parts(box: ipywidgets.Widget) -> tuple[ipywidgets.SelectionSlider, ipywidgets.Stack]:
    slider, stack = box.children
    assert isinstance(slider, ipywidgets.SelectionSlider) and isinstance(stack, ipywidgets.Stack)
    return slider, stack


def frame_png(frame: ipywidgets.Widget) -> bytes:
    """The PNG of one slider frame (an HTML widget holding one ``<img>`` with a data URI)."""
    assert isinstance(frame, ipywidgets.HTML)
    [data] = re.findall(r'src="data:image/png;base64,([^"]+)"', frame.value)
    return base64.b64decode(data)


def frame_alt(frame: ipywidgets.Widget) -> str:
    [alt] = re.findall(r'alt="([^"]*)"', frame.value)
    return html.unescape(alt)


def frame_width(frame: ipywidgets.Widget) -> str | None:
    found = re.search(r"[^-]width: ([\d.]+px)", frame.value)
    return found.group(1) if found else None


def test_slider_options_are_the_sorted_labels_and_images_follow_them() -> None:
    frames = {3.0: png("red"), 0.1: png("green"), 1: png("blue")}
    box = beta_slider(frames)
    slider, stack = parts(box)
    assert isinstance(box, ipywidgets.VBox)
    assert list(slider.options) == ["0.1", "1", "3"]
    assert slider.index == 0 and stack.selected_index == 0
    assert [frame_png(image) for image in stack.children] == [frames[0.1], frames[1], frames[3.0]]


def test_description_and_readout_format_are_used() -> None:
    slider, _ = parts(beta_slider({0.25: png("red"), 0.5: png("blue")}, description="α", readout_format=".2f"))
    assert slider.description == "α"
    assert list(slider.options) == ["0.25", "0.50"]


def test_figures_are_rendered_at_the_given_dpi_and_closed() -> None:
    figs = {beta: figure(4.0, 3.0, f"β={beta}") for beta in (0.5, 1.0)}
    _, stack = parts(beta_slider(figs, dpi=50, pixel_ratio=1))
    assert [png_size(frame_png(image)) for image in stack.children] == [(200, 150), (200, 150)]
    open_numbers = set(plt.get_fignums())
    assert not any(fig.number in open_numbers for fig in figs.values()), "figures must be closed"


def test_figures_are_rendered_at_twice_the_pixels_and_shown_at_the_display_size() -> None:
    _, stack = parts(beta_slider({0.5: figure(4.0, 3.0, "β=0.5")}, dpi=50))  # pixel_ratio 2 by default
    image = stack.children[0]
    assert png_size(frame_png(image)) == (400, 300)
    assert frame_width(image) == "200.0px" and "max-width: 100%" in image.value


def test_frames_use_a_palette_of_at_most_256_colours() -> None:
    from PIL import Image

    _, stack = parts(beta_slider({0.5: figure(4.0, 3.0, "β=0.5")}))
    assert Image.open(io.BytesIO(frame_png(stack.children[0]))).mode == "P"


def test_png_frames_pass_through_with_their_own_size() -> None:
    frame = png("red")
    _, stack = parts(beta_slider({0.1: frame}))
    assert frame_png(stack.children[0]) == frame and frame_width(stack.children[0]) is None


def test_every_frame_has_alt_text_that_names_its_value_and_what_it_shows() -> None:
    labelled = figure(title="KL maps")
    labelled.axes[0].set(xlabel="x", ylabel="y")
    titled = {0.1: labelled, 1.0: set_alt(figure(title="ignored"), "four test images and their maps")}
    _, stack = parts(beta_slider(titled))
    assert [frame_alt(f) for f in stack.children] == ["β = 0.1: KL maps: y against x",
                                                      "β = 1: four test images and their maps"]
    _, stack = parts(beta_slider({0.5: png("red")}, description="p"))
    assert frame_alt(stack.children[0]) == "p = 0.5"  # PNG bytes: at least the value


@pytest.mark.parametrize("alt, wanted", [
    ("samples at {description} = {value}", ["p = 0.1: samples at p = 0.1", "p = 1: samples at p = 1"]),
    ({0.1: "low", 1.0: "high"}, ["p = 0.1: low", "p = 1: high"]),
    (lambda value: f"p = {value:g}: a frame", ["p = 0.1: a frame", "p = 1: a frame"]),
])
def test_alt_text_can_be_given_as_a_template_a_mapping_or_a_function(alt, wanted) -> None:
    _, stack = parts(beta_slider({0.1: png("red"), 1.0: png("blue")}, description="p", alt=alt))
    assert [frame_alt(f) for f in stack.children] == wanted


def test_alt_text_is_escaped_and_never_empty() -> None:
    _, stack = parts(beta_slider({0.1: png("red")}, alt='a "quoted" <b>text</b>'))
    assert 'alt="β = 0.1: a &quot;quoted&quot; &lt;b&gt;text&lt;/b&gt;"' in stack.children[0].value
    with pytest.raises(ValueError, match="alt text .* is empty"):
        beta_slider({0.1: png("red"), 1.0: png("blue")}, alt={0.1: "only one"})


def test_the_slider_index_is_linked_to_the_stack_in_the_embedded_state() -> None:
    """The page has no kernel: the link must be a jslink (a LinkModel) in the embedded widget state."""
    box = beta_slider({0.1: png("red"), 1.0: png("blue")})
    slider, stack = parts(box)
    state = embed_data(views=[box])["manager_state"]["state"]
    links = [entry["state"] for entry in state.values() if entry["model_name"] == "LinkModel"]
    wanted = (["IPY_MODEL_" + slider.model_id, "index"], ["IPY_MODEL_" + stack.model_id, "selected_index"])
    assert any((link["source"], link["target"]) == wanted for link in links), links


@pytest.mark.parametrize("frames, message", [
    ({}, "at least one frame"),
    ({math.nan: b""}, "finite"),
    ({math.inf: b""}, "finite"),
    ({"0.1": b""}, "finite"),
    ({True: b""}, "finite"),
    ({0.1: "not a figure"}, "Figure or PNG bytes"),
    ({0.1: b"GIF89a..."}, "PNG"),
    ({0.11: b"", 0.12: b""}, "duplicate labels"),
])
def test_bad_frames_raise_value_error(frames, message: str) -> None:
    readout_format = ".1f" if message == "duplicate labels" else ".3g"
    with pytest.raises(ValueError, match=message):
        beta_slider(frames, readout_format=readout_format)


def test_bad_dpi_raises_value_error() -> None:
    with pytest.raises(ValueError, match="dpi"):
        beta_slider({0.1: png("red")}, dpi=0)


@pytest.mark.parametrize("ratio", [0, 1.5, -2])
def test_bad_pixel_ratio_raises_value_error(ratio) -> None:
    with pytest.raises(ValueError, match="pixel_ratio"):
        beta_slider({0.1: png("red")}, pixel_ratio=ratio)


def test_live_slider_recomputes_on_change_and_closes_figures() -> None:
    calls: list[float] = []
    made: list[plt.Figure] = []

    def make(beta: float) -> plt.Figure:
        calls.append(beta)
        made.append(figure(title=f"β={beta}"))
        return made[-1]

    box = live_beta_slider(make, [1.0, 0.1, 10.0], description="p")
    slider, output = box.children
    assert isinstance(slider, ipywidgets.SelectionSlider) and isinstance(output, ipywidgets.Output)
    assert slider.description == "p" and [label for label, _ in slider.options] == ["0.1", "1", "10"]
    assert calls == [0.1]
    slider.value = 10.0
    assert calls == [0.1, 10.0]
    assert not set(plt.get_fignums()) & {fig.number for fig in made}


@pytest.mark.parametrize("fn, betas, message", [
    (None, [0.1], "callable"),
    (figure, [], "at least one"),
    (figure, [0.1, math.nan], "finite"),
])
def test_live_slider_bad_arguments_raise_value_error(fn, betas, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        live_beta_slider(fn, betas)

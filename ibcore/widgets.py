"""β sliders: one helper for the static book, one for a live kernel.

:func:`beta_slider` takes precomputed frames (one figure per value of β, α, p, ...)
and switches between them in the browser. It links the slider to a stack of
images with ``ipywidgets.jslink``, a link that runs in JavaScript, so the
slider keeps working in the static HTML book where no kernel is running (the
widget state, images included, is embedded in the page). Every frame is an ``<img>`` with
alt text (``ipywidgets.Image`` has none): what the frame's figure says it shows
(:func:`ibcore.plots.style.alt_text`), or the ``alt`` given.

:func:`live_beta_slider` recomputes the figure on each move; it needs a kernel.

Example::

    frames = {beta: plots.plot_something(results[beta]) for beta in betas}
    beta_slider(frames)                   # works in the static book
    live_beta_slider(make_figure, betas)  # recomputes, in Jupyter or Colab
"""
from __future__ import annotations

import base64
import html
import io
import math
import numbers
import warnings
from typing import Callable, Mapping, Sequence, Union

import ipywidgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ibcore.plots.style import DPI, PIXEL_RATIO, alt_text

Frame = Union[Figure, bytes]
#: Alt text of the frames: one text per value (a mapping), a function of the value, or a template
#: with ``{value}`` (the slider's readout) and ``{description}``.
Alt = Union[None, str, Mapping[float, str], Callable[[float], str]]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Above this many bytes of PNG data a slider would push its page past ~1 MB.
PAGE_BUDGET_BYTES = 700_000


def beta_slider(frames: Mapping[float, Frame], *, description: str = "β", readout_format: str = ".3g",
                dpi: int = DPI, pixel_ratio: int = PIXEL_RATIO, alt: Alt = None) -> ipywidgets.Widget:
    """A slider over precomputed frames that works without a kernel.

    Args:
        frames: one frame per parameter value, ``{value: Figure or PNG bytes}``.
            Figures are rendered to PNG and closed (so the notebook does not
            display them a second time and their memory is freed).
        description: the slider's label, e.g. ``"β"``, ``"α"`` or ``"p"``.
        readout_format: format spec for the values shown by the slider.
        dpi: the frames' display resolution, by default the book's figures' (80: 10 pt text is 11 px).
        pixel_ratio: frames are rendered at ``pixel_ratio × dpi`` and shown at the size of
            ``dpi``, sharp on high-density screens; their colours are reduced to a
            256-colour palette, which keeps a 2× frame about as light as an unreduced 1× one.
        alt: each frame's alt text (see :data:`Alt`); by default a Figure's own
            (:func:`ibcore.plots.style.alt_text`: the text :func:`~ibcore.plots.style.set_alt` gave it,
            else its titles and axis labels), and for PNG bytes "<description> = <value>". The
            value is always part of it ("β = 0.5: …"), so that each frame's text differs.

    Returns:
        A ``VBox`` of a ``SelectionSlider`` (values in increasing order) above a
        ``Stack`` of ``HTML`` widgets, each one ``<img>`` with its alt text, linked in the browser by ``jslink``.

    Raises:
        ValueError: no frames, a key that is not a finite number, two keys with
            the same label, a frame that is neither a Figure nor PNG bytes, a
            ``dpi`` that is not positive, a ``pixel_ratio`` that is not an integer ≥ 1, or an
            alt text that is empty.
    """
    if not frames:
        raise ValueError("beta_slider needs at least one frame; got an empty mapping")
    if not (isinstance(dpi, numbers.Real) and dpi > 0):
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    if not (isinstance(pixel_ratio, numbers.Integral) and pixel_ratio >= 1):
        raise ValueError(f"pixel_ratio must be an integer ≥ 1, got {pixel_ratio!r}")
    values = sorted(_check_value(key) for key in frames)
    labels = _labels(values, readout_format)
    by_value = {_check_value(key): frame for key, frame in frames.items()}
    texts = [_alt(alt, by_value[value], value, label, description) for value, label in zip(values, labels)]
    rendered = [_to_png(by_value[value], dpi, pixel_ratio) for value in values]
    pngs = [png for png, _ in rendered]
    total = sum(len(png) for png in pngs)
    if total > PAGE_BUDGET_BYTES:
        warnings.warn(f"the {len(pngs)} frames take {total / 1e6:.2f} MB of PNG; the page may exceed 1 MB "
                      "(lower dpi or use fewer frames)", stacklevel=2)

    slider = ipywidgets.SelectionSlider(options=labels, value=labels[0], description=description,
                                        continuous_update=True, readout=True)
    images = [ipywidgets.HTML(value=frame_html(png, text, width)) for (png, width), text in zip(rendered, texts)]
    stack = ipywidgets.Stack(images, selected_index=0)
    ipywidgets.jslink((slider, "index"), (stack, "selected_index"))
    return ipywidgets.VBox([slider, stack])


def frame_html(png: bytes, alt: str, width: float | None = None) -> str:
    """One slider frame as HTML: the PNG inline, its alt text, shown ``width`` CSS pixels wide (at most
    the column's width; None: the PNG's own size)."""
    size = f"width: {width}px; " if width else ""
    return (f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" '
            f'alt="{html.escape(alt, quote=True)}" style="{size}max-width: 100%; height: auto;">')


def _alt(alt: Alt, frame: Frame, value: float, label: str, description: str) -> str:
    """The alt text of one frame: the ``alt`` argument's, else the figure's own; prefixed by the value."""
    if isinstance(alt, str):
        text = alt.format(value=label, description=description)
    elif isinstance(alt, Mapping):
        text = alt.get(value, "")
    elif callable(alt):
        text = alt(value)
    else:
        text = alt_text(frame) if isinstance(frame, Figure) else ""
    text = str(text).strip()
    if alt is not None and not text:
        raise ValueError(f"the alt text of the frame at {description} = {label} is empty")
    prefix = f"{description} = {label}"
    return text if text.startswith(prefix) else f"{prefix}: {text}" if text else prefix


def live_beta_slider(fn: Callable[[float], Figure], betas: Sequence[float], *,
                     description: str = "β") -> ipywidgets.Widget:
    """A slider that calls ``fn(value)`` and shows its figure each time it moves (needs a kernel).

    Args:
        fn: makes the figure for one parameter value.
        betas: the values the slider offers, shown in increasing order.
        description: the slider's label.

    Returns:
        A ``VBox`` of a ``SelectionSlider`` above an ``Output`` widget showing
        ``fn`` at the current value (computed once on creation).

    Raises:
        ValueError: ``fn`` is not callable, ``betas`` is empty or holds a value
            that is not a finite number.
    """
    if not callable(fn):
        raise ValueError(f"fn must be callable, got {type(fn).__name__}")
    if len(betas) == 0:
        raise ValueError("live_beta_slider needs at least one value")
    values = sorted(_check_value(beta) for beta in betas)
    options = list(zip(_labels(values, ".3g"), values))
    slider = ipywidgets.SelectionSlider(options=options, value=values[0], description=description,
                                        continuous_update=False, readout=True)
    output = ipywidgets.Output()

    def show(_change: object = None) -> None:
        from IPython.display import display

        figure = fn(slider.value)
        with output:
            output.clear_output(wait=True)
            display(figure)
        plt.close(figure)

    slider.observe(show, names="value")
    show()
    return ipywidgets.VBox([slider, output])


def _check_value(key: object) -> float:
    """A slider value as a float; ValueError for anything but a finite real number."""
    if isinstance(key, bool) or not isinstance(key, numbers.Real) or not math.isfinite(key):
        raise ValueError(f"slider values must be finite real numbers, got {key!r}")
    return float(key)


def _labels(values: Sequence[float], readout_format: str) -> list[str]:
    """The readout label of each value; ValueError if two values print alike."""
    labels = [format(value, readout_format) for value in values]
    if len(set(labels)) != len(labels):
        raise ValueError(f"values {list(values)} give duplicate labels with format {readout_format!r}; "
                         "use a format with more digits")
    return labels


def _to_png(frame: Frame, dpi: float, pixel_ratio: int = 1) -> tuple[bytes, float | None]:
    """PNG bytes of a frame and its display width in CSS pixels: a Figure is rendered at
    ``pixel_ratio × dpi``, reduced to 256 colours and closed; PNG bytes pass through (width None)."""
    if isinstance(frame, Figure):
        buffer = io.BytesIO()
        try:
            width = frame.get_figwidth() * dpi
            frame.savefig(buffer, format="png", dpi=dpi * pixel_ratio)
        finally:
            plt.close(frame)
        return _palette_png(buffer.getvalue()), round(width, 1)
    if isinstance(frame, (bytes, bytearray)):
        if not bytes(frame[:8]) == PNG_SIGNATURE:
            raise ValueError("byte frames must be PNG images (they do not start with the PNG signature)")
        return bytes(frame), None
    raise ValueError(f"a frame must be a matplotlib Figure or PNG bytes, got {type(frame).__name__}")


def _palette_png(png: bytes) -> bytes:
    """The PNG re-encoded with an adaptive 256-colour palette (no dithering): under half the bytes
    of a plot or image grid (measured on the book's KL-map and VAE frames), with no visible change."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    palette.save(buffer, format="png", optimize=True)
    return buffer.getvalue()

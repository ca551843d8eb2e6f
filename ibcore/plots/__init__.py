"""The book's figures: one seaborn style, every figure labelled with its provenance.

Each public ``plot_*`` function takes results (plain dicts/arrays from
``ibcore.experiments`` or ``ibcore.metrics``) and returns a matplotlib Figure.
Every figure that shows a trained model carries a caption line made by
:func:`provenance`, e.g. "quick profile · 3 epochs · 22,699 MNIST train images".
Figures are as wide as the book's text column (:data:`FIGURE_WIDTH`) and their text is never smaller
than matplotlib's "small" (10 pt, 11 px at 80 dpi: :data:`MIN_TEXT_PX`). Every kind of dropout has
one style across the book, :data:`DROPOUT_STYLES` (colour, marker, line style, label): every figure
that draws a kind of dropout reads it there.

One module per family of figures, every public name re-exported here:

* :mod:`~ibcore.plots.style`: the style (2× "retina" PNGs), the column's width, :data:`DROPOUT_STYLES`,
  the provenance line, alt text, the one rounding rule (:func:`number`) and the one table style with
  readable headers (:data:`HEADERS`);
* :mod:`~ibcore.plots.prose`: the numbers a chapter's prose quotes, glued from its results;
* :mod:`~ibcore.plots.theory`: chapters 01–03 and 20 (IB curve, KL priors, TC, Gaussian dropout);
* :mod:`~ibcore.plots.mnist`: training curves, error vs width (Fig. 3a), activation priors (Fig. 1);
* :mod:`~ibcore.plots.vae`: the VAE of §7 (images, ELBO, β frames);
* :mod:`~ibcore.plots.cluttered`: Cluttered MNIST, KL maps and localisation (Fig. 2);
* :mod:`~ibcore.plots.cifar`: CIFAR-10, error vs filters (Fig. 3b), information per layer (Fig. 6),
  TC vs β (Fig. 5), Occluded CIFAR (Fig. 4);
* :mod:`~ibcore.plots.pixelcnn`: Rey & Mnih's hybrid VAE-PixelCNN (its diagram, Fig. 2's trade-off,
  Fig. 3's samples, the table).
"""
from ibcore.plots.cifar import (plot_error_vs_filters, plot_information_per_layer, plot_occlusion,
                               plot_tc_vs_beta)
from ibcore.plots.cluttered import plot_cluttered_samples, plot_kl_maps, plot_localisation
from ibcore.plots.mnist import (METHOD_LABELS, METHOD_STYLES, plot_activation_priors, plot_error_vs_width,
                                plot_training_curves, width_table)
from ibcore.plots.pixelcnn import (BOTTLENECK_LABELS, POINT_LABEL, STRENGTH, pixelcnn_frames, pixelcnn_table,
                                   plot_hybrid_model, plot_pixelcnn_frame, plot_tradeoff, separate_point_labels)
from ibcore.plots.prose import glue_frame, glue_key, glue_numbers, glue_text
from ibcore.plots.style import (COLUMN_PX, DPI, DROPOUT_STYLES, FIGURE_PX, FIGURE_WIDTH, HEADERS, MIN_TEXT_PX, PALETTE,
                                PIXEL_RATIO, SMALLEST, SMOKE_RUN, DropoutStyle, paper_epochs, add_provenance, alt_text,
                                dropout_style, figsize, glue_provenance, layout_with_provenance, number, provenance,
                                provenance_lines, provenance_margin, readable_header, result_provenance, seed_count,
                                set_alt, table, use_style)
from ibcore.plots.theory import (plot_dropout_bound, plot_dropout_density, plot_ib_curve, plot_ib_frame,
                                 plot_kl_priors, plot_stochastic_advantage, plot_tc_check)
from ibcore.plots.vae import plot_vae_beta_frame, plot_vae_elbo, plot_vae_images, vae_beta_frames

__all__ = [
    "PALETTE", "SMALLEST", "DPI", "PIXEL_RATIO", "HEADERS", "use_style", "provenance", "add_provenance",
    "layout_with_provenance", "result_provenance", "table", "readable_header", "glue_numbers", "glue_text", "glue_frame", "glue_key",
    "COLUMN_PX", "FIGURE_PX", "FIGURE_WIDTH", "MIN_TEXT_PX", "figsize", "DROPOUT_STYLES", "DropoutStyle",
    "dropout_style",
    "SMOKE_RUN", "paper_epochs", "seed_count", "provenance_lines", "provenance_margin", "glue_provenance", "number", "set_alt",
    "alt_text",
    "plot_ib_curve", "plot_ib_frame", "plot_stochastic_advantage", "plot_kl_priors", "plot_tc_check",
    "plot_dropout_bound", "plot_dropout_density",
    "METHOD_LABELS", "METHOD_STYLES", "plot_training_curves", "width_table", "plot_error_vs_width",
    "plot_activation_priors",
    "plot_vae_images", "plot_vae_elbo", "plot_vae_beta_frame", "vae_beta_frames",
    "plot_kl_maps", "plot_localisation", "plot_cluttered_samples",
    "plot_error_vs_filters", "plot_information_per_layer", "plot_tc_vs_beta", "plot_occlusion",
    "BOTTLENECK_LABELS", "POINT_LABEL", "STRENGTH", "separate_point_labels", "pixelcnn_table", "plot_tradeoff", "plot_pixelcnn_frame", "pixelcnn_frames",
    "plot_hybrid_model",
]

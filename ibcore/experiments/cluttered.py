"""Fig. 2 / Fig. 7 measured: All-CNN-96 with Information Dropout on Cluttered MNIST, per β."""
from __future__ import annotations

from typing import Any, Mapping

from ibcore import cache
from ibcore.experiments.common import EXECUTION, beta_used, fit_classifier, grid, trial_config
from ibcore.experiments.registry import Config, Experiment, TrialRun, declare_baseline, register



def _splits(config: Config):
    from ibcore.data import cluttered_mnist_splits

    return cluttered_mnist_splits(config["n_train"], config["n_test"], size=config["size"],
                                  distractors=config["distractors"], patch=config["patch"],
                                  seed=config["data_seed"])


def _identity(config: Config) -> dict:
    """Generated data: the identity of the MNIST digits it is cut from, plus the generator's settings."""
    from ibcore.data import array_digest, mnist

    return dict(dataset="Cluttered MNIST", n_train=config["n_train"], n_test=config["n_test"],
                size=config["size"], distractors=config["distractors"],
                source_sha256=array_digest(*mnist(train=True), *mnist(train=False)))


def _cluttered_trial(config: Config, settings: dict, run: TrialRun) -> dict:
    """Train All-CNN-96 at one β; keep its error, KL maps of the shown examples, and localisation scores
    of the KL maps and of the ink baseline on every test image."""
    import torch

    from ibcore.metrics import ink_maps, kl_maps, localisation
    from ibcore.models import AllCNN96

    config = trial_config(config, settings)
    (x, y, _), (x_test, y_test, boxes) = _splits(config)
    beta = settings["beta"]
    used = beta_used(beta, len(x), "Cluttered MNIST")
    torch.manual_seed(config["seed"])
    model = AllCNN96(filter_fraction=config["filter_fraction"], dropout="information",
                     max_alpha=config["max_alpha"])
    trained = fit_classifier(model, (x, y), (x_test, y_test), config, run, beta=used, seed=config["seed"])
    maps = kl_maps(model, x_test)
    sizes = [m.shape[-1] for m in maps]
    size, margin = config["size"], config["margin"]
    shown = slice(0, config["examples"])
    return dict(beta=beta, beta_used=used, dropout="information", seed=config["seed"], epochs=config["epochs"],
                **trained, map_sizes=sizes,
                localisation=[localisation(m, boxes, size, margin=margin) for m in maps],
                ink_localisation=[localisation(m, boxes, size, margin=margin)
                                  for m in ink_maps(x_test, sizes)],
                maps=[cache.encode_array(m[shown].numpy()) for m in maps])


def _combine(config: Config, rows: list[dict]) -> dict:
    _, (x_test, y_test, boxes) = _splits({**config, "n_train": 1, "n_test": config["n_test"]})
    shown = slice(0, config["examples"])
    examples = dict(images=cache.encode_array(x_test[shown, 0].numpy()), labels=y_test[shown].tolist(),
                    boxes=boxes[shown].tolist())
    return dict(rows=rows, examples=examples)


_BASE = dict(size=96, distractors=21, patch=8, data_seed=0, seed=0, max_alpha=1.0, momentum=0.9,
             nesterov=True, weight_decay=0.0, batch_size=32, examples=4, margin=8, **EXECUTION)

_QUICK = {**_BASE, "n_train": 1500, "n_test": 300, "filter_fraction": 0.25, "betas": [0.0, 0.5], "epochs": 2,
          "lr": 0.1, "lr_drops": [], "recalibration_size": 500}
# Reduced for 2 CPU cores: 6,000 images, 25 % of the filters, batch 32. At the original
# lr/batch ratio (0.0025 at batch 32) a probe was still at 85 % test error after 2 epochs,
# so lr 0.1 (see book/deviations.md); β is rescaled to 6,000 images (β_used = β · 0.12).
# 12 epochs (drops at 8 and 11) left β = 0.5 at 11.8 % test error, its error still falling
# fast when the rate dropped: 16 epochs with 12 at the high rate.
_CPU = {**_BASE, "n_train": 6000, "n_test": 1000, "filter_fraction": 0.25, "betas": [0.0, 0.1, 0.25, 0.5],
        "epochs": 16, "lr": 0.1, "lr_drops": [12, 15], "recalibration_size": 2000}
# gpu: the paper's data (50,000 / 10,000 images) and All-CNN-96 at all filters, batch 128, on the
# budget-aware schedule (warm-up to 0.1 over 10 % of the steps, then linear decay to 0; no flips); 5 epochs,
# so that every gpu profile, cluttered-mnist-seeds' too, fits 20 min in all.
_GPU = {**_BASE, "n_train": 50000, "n_test": 10000, "filter_fraction": 1.0, "betas": [0.0, 0.1, 0.25, 0.5],
        "epochs": 5, "lr": 0.1, "lr_drops": [], "schedule": "linear", "warmup": 0.1, "batch_size": 128,
        "recalibration_size": 10000}
# The original code's recipe (cluttered.py): batch 128, lr 0.01, ×0.1 at 30 and 60, 80 epochs.
_FULL = {**_BASE, "n_train": 50000, "n_test": 10000, "filter_fraction": 1.0, "betas": [0.0, 0.1, 0.25, 0.5],
         "epochs": 80, "lr": 0.01, "lr_drops": [30, 60], "batch_size": 128, "recalibration_size": 10000}

register(Experiment(
    name="cluttered-mnist",
    reproduces="Fig. 2 and 7 (§8): per-location KL maps of All-CNN-96 on Cluttered MNIST vs β, "
               "and how well they localise the digit",
    profiles={"quick": _QUICK, "cpu": _CPU, "gpu": _GPU, "full": _FULL},
    trials=lambda config: [dict(beta=b) for b in config["betas"]],
    run_trial=_cluttered_trial, data=_identity, grid=("betas",), combine=_combine, format_version=2,
))
declare_baseline("cluttered-mnist", 0.10, "the smallest β", smallest="beta",
                 why="at ≤ 10 % the network finds the digit among the 21 distractors (chance 90 %)")

#: Fig. 2's comparison alone, with the seeds it needs (issue 26): β = 0 and the largest β of cluttered-mnist at
#: two seeds, on each profile's recipe. cpu: the seed-0 trials are cluttered-mnist's, reused (1,853 and 2,166 s
#: on one thread with older code); the seed-1 trials took 706 and 751 s: ~46 min at --jobs 2. gpu: a GPU window's share (all gpu profiles ≤ 20 min):
#: the gpu recipe at all filters on 6,000 training and 2,000 test images, 6 epochs.
_SEEDS = {"betas": [0.0, 0.5], "seeds": [0, 1]}
register(Experiment(
    name="cluttered-mnist-seeds",
    reproduces="Fig. 2 (§8) at β = 0 and the largest β, two seeds each: how well the KL maps of All-CNN-96 "
               "localise the digit on Cluttered MNIST",
    profiles={"quick": {**_QUICK, **_SEEDS}, "cpu": {**_CPU, **_SEEDS},
              "gpu": {**_GPU, **_SEEDS, "n_train": 6000, "n_test": 2000, "recalibration_size": 2000, "epochs": 6},
              "full": {**_FULL, **_SEEDS}},
    trials=lambda config: grid(config, beta="betas", seed="seeds"),
    run_trial=_cluttered_trial, data=_identity, grid=("betas", "seeds"), combine=_combine, format_version=2,
))
declare_baseline("cluttered-mnist-seeds", 0.10, "the smallest β", smallest="beta",
                 why="as cluttered-mnist: at ≤ 10 % the network finds the digit among the 21 distractors")


def by_beta(result: Mapping[str, Any]) -> list[dict]:
    """One row per β of a cluttered-mnist result, in the order trained: the first seed's row (its maps)
    with ``seeds``, their number, and the mean over seeds of the errors and of every localisation score
    of the KL maps and of the ink baseline, per layer (a number only some seeds record is dropped)."""
    import statistics

    groups: dict[float, list[dict]] = {}
    for row in result["rows"]:
        groups.setdefault(row["beta"], []).append(row)

    def mean_scores(rows: list[dict], key: str) -> list[dict] | None:
        if not all(key in r for r in rows):
            return None
        return [{name: statistics.fmean(r[key][k][name] for r in rows) for name in rows[0][key][k]}
                for k in range(len(rows[0][key]))]

    merged = []
    for rows in groups.values():
        errors = {k: statistics.fmean(r[k] for r in rows) for k in ("test_error", "train_error", "clean_train_error")
                  if all(k in r for r in rows)}
        scores = {k: mean_scores(rows, k) for k in ("localisation", "ink_localisation")}
        first = {k: v for k, v in rows[0].items() if k != "clean_train_error"}
        merged.append({**first, **errors, **{k: v for k, v in scores.items() if v is not None}, "seeds": len(rows)})
    return merged


def localisation_table(result: Mapping[str, Any]):
    """A pandas DataFrame of a cluttered-mnist result: test error and localisation per β and layer,
    beside chance and the ink-density baseline (with and without the border margin where present);
    means over seeds (:func:`by_beta`), with their number where some β has several."""
    import pandas as pd

    records = []
    rows = by_beta(result)
    seeded = any(row["seeds"] > 1 for row in rows)
    for row in rows:
        inks = row.get("ink_localisation") or [None] * len(row["localisation"])
        for k, (size, score, ink) in enumerate(zip(row["map_sizes"], row["localisation"], inks)):
            record = {"β (paper)": row["beta"], "layer": f"{k + 1} ({size}×{size})",
                      **({"seeds": row["seeds"]} if seeded else {}),
                      "test error (%)": 100 * row["test_error"],
                      "argmax in box (%)": 100 * score["argmax_in_box"],
                      "chance (%)": 100 * score["argmax_chance"], "mass ratio": score["mass_ratio"]}
            if ink is not None:
                record.update({"ink: argmax in box (%)": 100 * ink["argmax_in_box"],
                               "ink: mass ratio": ink["mass_ratio"]})
            if "argmax_in_box_margin" in score:
                record.update({"argmax in box, margin (%)": 100 * score["argmax_in_box_margin"],
                               "mass ratio, margin": score["mass_ratio_margin"]})
            records.append(record)
    return pd.DataFrame(records).set_index(["β (paper)", "layer"]).round(2)

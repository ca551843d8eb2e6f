"""What the experiment families share: the training recipe, β at reduced scale, MNIST, tables."""
from __future__ import annotations

from typing import Any, Mapping

from ibcore.experiments.registry import Config, TrialRun
from ibcore.train.recipe import RECIPE_KEYS, Recipe, beta_used  # noqa: F401  (the recipe's one home)

#: How a run executes, in every profile (part of the cache key): fp32/bf16 and torch.compile.
EXECUTION = dict(precision="fp32", compile=False)


def fit_trial(model, train, test, config: Config, run: TrialRun, **settings) -> dict:
    """:func:`ibcore.train.fit` with the profile's :class:`~ibcore.train.Recipe`, the trial's
    checkpoint, progress, device and ``stop_after`` (``verify``: raise
    :class:`~ibcore.train.loop.TrainingStopped` after that many epochs); ``settings`` give β, seed, objective, …"""
    from ibcore.train import fit

    return fit(model, train, test, recipe=Recipe.from_config(config), checkpoint=run.checkpoint,
               progress=run.progress, device=run.device, stop_after=run.stop_after, **settings)


def check_betas(betas) -> None:
    if any(not b >= 0 for b in betas):
        raise ValueError(f"beta must be >= 0, got {list(betas)!r}")


def mnist_split(config: Config) -> tuple[tuple, tuple]:
    """MNIST train/test tensors, cut to ``n_train``/``n_test`` examples when those are > 0."""
    from ibcore.data import mnist

    train, test = mnist(train=True), mnist(train=False)
    if config.get("n_train"):
        train = tuple(t[:config["n_train"]] for t in train)
    if config.get("n_test"):
        test = tuple(t[:config["n_test"]] for t in test)
    return train, test


def mnist_identity(config: Config) -> dict:
    """The identity of the MNIST split a config uses (sizes and a hash of the arrays)."""
    from ibcore.data import identity

    return identity("MNIST", *mnist_split(config))


def grid(config: Config, **axes: str) -> list[dict]:
    """The product of the config's lists named by ``axes`` (setting name → config key), in order."""
    from itertools import product

    names = list(axes)
    return [dict(zip(names, values)) for values in product(*(config[axes[n]] for n in names))]


def seed_table(records: list[dict], by: list[str], sd_of: tuple[str, ...] = ()):
    """Records (one per trial) grouped by ``by``: the number of seeds, the mean of every number and,
    for the columns in ``sd_of``, the standard deviation over seeds (blank for one seed)."""
    import pandas as pd

    frame = pd.DataFrame(records)
    groups = frame.groupby(by, sort=False)  # the order of the records
    table = groups.mean(numeric_only=True).drop(columns="seed")
    for column in sd_of:
        table.insert(table.columns.get_loc(column) + 1, f"{column} sd", groups[column].std())
    table.insert(0, "seeds", groups["seed"].nunique())
    return table.round(3)


#: Column order of the tables of results that carry a ``summary`` (JSON files sort their keys).
SUMMARY_COLUMNS = ("activation", "prior", "latent", "beta", "seed", "epochs", "test_error_pct", "test_elbo",
                   "test_reconstruction", "test_kl", "active_units", "zero_fraction", "ks", "qq_r2",
                   "unit_ks_median", "seconds")


def summary_table(result: Mapping[str, Any]):
    """A pandas DataFrame of a result's rows: mean and spread of the final test error (%) per group.

    Rows are grouped by every setting that varies except the seed. A result
    that carries its own ``summary`` (a list of flat dicts) is shown as that.
    """
    import pandas as pd  # imported here to keep ibcore's import light

    if "summary" in result:
        frame = pd.DataFrame(result["summary"])
        if "test_error" in frame:  # every table of the book gives errors in %
            frame["test_error"] = 100 * frame["test_error"]
            frame = frame.rename(columns={"test_error": "test_error_pct"})
        first = [c for c in SUMMARY_COLUMNS if c in frame]
        return frame[first + [c for c in frame if c not in first]].round(4)

    frame = pd.DataFrame([{k: v for k, v in row.items() if k != "history"} for row in result["rows"]])
    frame["test_error_%"] = 100 * frame["test_error"]
    frame["train_error_%"] = 100 * frame["train_error"]
    keys = ([c for c in ("dropout", "width") if c in frame and frame[c].nunique() > 1]
            or [c for c in ("dropout",) if c in frame])
    if "beta" in frame and (not keys or frame.groupby(keys)["beta"].nunique().max() > 1):  # β is a grid axis
        keys.append("beta")
    if "seed" not in frame:
        frame["seed"] = 0
    return (frame.groupby(keys, sort=False)
            .agg(test_error_pct=("test_error_%", "mean"), test_error_sd=("test_error_%", "std"),
                 train_error_pct=("train_error_%", "mean"), seeds=("seed", "nunique"),
                 epochs=("epochs", "first"), seconds=("seconds", "sum"))
            .round(3))

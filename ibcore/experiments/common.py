"""What the experiment families share: the training recipe, β at reduced scale, MNIST, tables."""
from __future__ import annotations

from typing import Any, Callable, Mapping

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


def fit_classifier(model, train, test, config: Config, run: TrialRun, **settings) -> dict:
    """:func:`fit_trial` for a classifier, and what every classifier row records of its training:

    * ``test_error``: the final test error (noise off, BatchNorm recalibrated with the noise off);
    * ``clean_train_error``: the error on the first min(10,000, N) training images, measured the same
      way (:func:`ibcore.train.clean_train_error`): the trained network's fit to its training data;
    * ``train_error``: the *running* training error of the last epoch, a mean over its noisy,
      possibly augmented batches (not a measure of overfitting: the noise and the flips raise it);
    * ``seconds`` (all epochs) and ``history`` (per epoch).

    Results computed before ``clean_train_error`` existed lack it: readers treat it as optional.
    """
    from ibcore.train import clean_train_error, total_seconds

    history = fit_trial(model, train, test, config, run, **settings)
    return dict(test_error=history["test_error"][-1], clean_train_error=clean_train_error(model, train),
                train_error=history["train_error"][-1], seconds=total_seconds(history), history=history)


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


#: The config keys of :func:`with_repeats` (grid keys, so that adding repeats keeps the first trials' ids).
REPEAT_KEYS = ("repeat_seeds",)


def with_repeats(trials: list[dict], config: Config, chosen: Callable[[dict], bool]) -> list[dict]:
    """``trials`` at the profile's ``seed``, then the ``chosen`` ones again at each seed of
    ``repeat_seeds`` (the settings gain ``seed``): seeds where a comparison needs its spread, without
    re-running the sweep's other trials, and with the first trials' ids (and cached rows) unchanged."""
    seeds = config.get("repeat_seeds", [])
    if config["seed"] in seeds:
        raise ValueError(f"repeat_seeds {seeds!r} must not repeat the profile's seed {config['seed']}")
    return trials + [dict(t, seed=seed) for seed in seeds for t in trials if chosen(t)]


def trial_config(config: Config, settings: Mapping[str, Any]) -> Config:
    """The config a trial trains with: the profile's, at the trial's own seed where it has one."""
    return dict(config, seed=settings.get("seed", config["seed"]))


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
SUMMARY_COLUMNS = ("activation", "prior", "latent", "beta", "seed", "epochs", "test_error_pct",
                   "clean_train_error_pct", "train_error_pct", "test_elbo",
                   "test_reconstruction", "test_kl", "active_units", "zero_fraction", "ks", "qq_r2",
                   "unit_ks_median", "seconds")


#: What a table shows for a result computed before its rows recorded ``clean_train_error``.
NOT_RECORDED = "–"


def clean_train_percent(row: Mapping[str, Any]) -> float:
    """A row's clean training error in %, NaN where the row predates it (tables show NaN as "—")."""
    return 100 * row.get("clean_train_error", float("nan"))


def recorded_clean(result: Mapping[str, Any]) -> bool:
    """Whether any row of ``result`` records ``clean_train_error`` (a table shows the column only then)."""
    return any("clean_train_error" in row for row in result["rows"])


def or_not_recorded(values):
    """A column of numbers with :data:`NOT_RECORDED` where one is missing (NaN: a row computed
    before the field existed)."""
    return values.astype(object).where(values.notna(), NOT_RECORDED)


def summary_table(result: Mapping[str, Any]):
    """A pandas DataFrame of a result's rows: mean and spread of the final test error (%) per group.

    Rows are grouped by every setting that varies except the seed. A result
    that carries its own ``summary`` (a list of flat dicts) is shown as that. A classifier's table
    gives the clean training error (noise off, as the test error; :data:`NOT_RECORDED` for results
    computed before it was recorded) and, from rows, the running one (noisy, augmented batches).
    """
    import pandas as pd  # imported here to keep ibcore's import light

    if "summary" in result:
        frame = pd.DataFrame(result["summary"])
        if "test_error" in frame:  # every table of the book gives errors in %
            frame["test_error"] = 100 * frame["test_error"]
            frame = frame.rename(columns={"test_error": "test_error_pct"})
            clean = 100 * frame.pop("clean_train_error").astype(float) if "clean_train_error" in frame else float("nan")
            frame["clean_train_error_pct"] = or_not_recorded(pd.Series(clean, frame.index, dtype=float))
        first = [c for c in SUMMARY_COLUMNS if c in frame]
        return frame[first + [c for c in frame if c not in first]].round(4)

    frame = pd.DataFrame([{k: v for k, v in row.items() if k != "history"} for row in result["rows"]])
    frame["test_error_%"] = 100 * frame["test_error"]
    frame["train_error_%"] = 100 * frame["train_error"]
    frame["clean_train_error_%"] = 100 * frame.get("clean_train_error", pd.Series(float("nan"), frame.index,
                                                                                  dtype=float)).astype(float)
    keys = ([c for c in ("dropout", "width", "filter_fraction") if c in frame and frame[c].nunique() > 1]
            or [c for c in ("dropout",) if c in frame])
    if "beta" in frame and (not keys or frame.groupby(keys)["beta"].nunique().max() > 1):  # β is a grid axis
        keys.append("beta")
    if "seed" not in frame:
        frame["seed"] = 0
    table = (frame.groupby(keys, sort=False)
             .agg(test_error_pct=("test_error_%", "mean"), test_error_sd=("test_error_%", "std"),
                  clean_train_error_pct=("clean_train_error_%", _mean_of_all),
                  train_error_pct=("train_error_%", "mean"), seeds=("seed", "nunique"),
                  epochs=("epochs", "first"), seconds=("seconds", "sum"))
             .round(3))
    table["clean_train_error_pct"] = or_not_recorded(table["clean_train_error_pct"])
    return table


def _mean_of_all(values) -> float:
    """The mean of a group's values, or NaN unless every member has one (no mean of a part)."""
    return float(values.mean()) if values.notna().all() else float("nan")

"""The values an experiment's settings may take, checked for every trial of the grid before
anything is loaded or trained (issue 25 item 3).

One path: :meth:`ibcore.experiments.registry.Experiment.config` calls :func:`check_trials`, so
``python -m ibcore run``, ``run-all``, ``verify`` and :func:`ibcore.experiments.run` refuse a bad
value in the time it takes to resolve a config, not after the trials before the bad one trained.
A setting's rule is named once, for its singular name; a list setting (``betas``, ``widths``, …)
is checked value by value, as each trial will read it. Settings with no rule here are checked
where they are used (the training :class:`~ibcore.train.Recipe`, the models).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


#: Setting → (test, what it must be). Plural settings (``betas``) are checked through the singular.
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "beta": (lambda v: _number(v) and v >= 0, ">= 0"),
    "seed": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    "width": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "k": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "layers": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "n_train": (lambda v: _integer(v) and v >= 0, "an integer >= 0 (0: all)"),
    "n_test": (lambda v: _integer(v) and v >= 0, "an integer >= 0 (0: all)"),
    "filter_fraction": (lambda v: _number(v) and 0 < v <= 1, "in (0, 1]"),
    "max_alpha": (lambda v: _number(v) and v > 0, "> 0"),
    "alpha": (lambda v: _number(v) and v > 0, "> 0"),
    "input_dropout": (lambda v: _number(v) and 0 <= v < 1, "in [0, 1)"),
}
PLURALS = {"betas": "beta", "seeds": "seed", "widths": "width", "ks": "k", "filter_fractions": "filter_fraction"}


def check_setting(key: str, value: Any) -> None:
    """Raise ValueError(``"<key> must be <rule>, got <value>"``) unless ``value`` is allowed for ``key``."""
    if key in PLURALS:
        for item in value if isinstance(value, (list, tuple)) else [value]:
            check_setting(PLURALS[key], item)
        return
    if key in RULES:
        test, rule = RULES[key]
        if not test(value):
            raise ValueError(f"{key} must be {rule}, got {value!r}")


def check_trials(config: Mapping[str, Any], trials: Iterable[Mapping[str, Any]]) -> None:
    """Check every setting of the config and of each trial (the grid's values) against :data:`RULES`."""
    for key, value in config.items():
        check_setting(key, value)
    for settings in trials:
        for key, value in settings.items():
            check_setting(key, value)

"""A training recipe, in one place: every setting of :func:`ibcore.train.fit` that shapes a run.

:class:`Recipe` is what the training loop reads, what a checkpoint's fingerprint and a trial's
cache key hash (through the experiment's config), and what the profiles of the experiments and
the command line set. A profile's config holds the recipe fields it sets (``Recipe.from_config``
fills in the defaults), so adding a field whose default keeps the old behaviour leaves every
committed result's cache key as it was.

Two learning-rate schedules (:func:`learning_rate_at`):

* ``"steps"``: the papers' schedule, ``lr`` times 0.1 at each epoch of ``lr_drops`` (§8);
* ``"linear"``: the budget-aware schedule (Li, Yumer & Ramanan, *Budgeted training*, ICLR 2020):
  a linear warm-up over the first ``warmup`` share of the steps, then a linear decay that
  reaches 0 at the end of the last step. Under a small, fixed budget it beats step drops.

Here too: the papers' training-set sizes and the rescaling of β for runs on fewer images.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

SCHEDULES = ("steps", "linear")
OPTIMIZERS = ("sgd", "adam")
#: ``fp32``: full precision; ``bf16``: forward pass and loss under bfloat16 autocast.
PRECISIONS = ("fp32", "bf16")
#: ``flip``: each training image mirrored left-right with probability 1/2, drawn anew every epoch.
AUGMENTATIONS = ("none", "flip")
#: The factor of each drop of the ``steps`` schedule (§8: "divided by 10").
DROP_FACTOR = 0.1


@dataclass(frozen=True)
class Recipe:
    """How a network is trained. Every field is a setting of a profile (``--set KEY=VALUE``)."""

    epochs: int = 1                    # passes over the training set
    lr: float = 0.01                   # learning rate: the constant between drops ("steps"), the peak ("linear")
    schedule: str = "steps"            # "steps" (the papers' drops) or "linear" (warm-up, then linear decay to 0)
    lr_drops: tuple[int, ...] = ()     # "steps": 0-based epochs from which the rate is ×0.1 once more
    warmup: float = 0.0                # "linear": share of all steps over which the rate rises from lr/W to lr
    optimizer: str = "sgd"             # "sgd" (momentum, Nesterov optional) or "adam" (momentum ignored)
    momentum: float = 0.9              # SGD momentum
    nesterov: bool = True              # Nesterov momentum, as the original code
    weight_decay: float = 0.0          # L2 coefficient added to the gradient by the optimiser
    batch_size: int = 100              # examples per step
    drop_last: bool = True             # drop each epoch's last partial batch, as the original code
    augment: str = "none"              # "flip": random horizontal flips (a deviation: the papers name none)
    recalibration_size: int | None = None  # training examples of the BatchNorm dry run before each test (None: all)
    precision: str = "fp32"            # "bf16": forward pass and loss under bfloat16 autocast
    compile: bool = False              # train through torch.compile(model)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lr_drops", tuple(int(d) for d in self.lr_drops))
        for name, value, allowed in (("schedule", self.schedule, SCHEDULES), ("optimizer", self.optimizer, OPTIMIZERS),
                                     ("precision", self.precision, PRECISIONS),
                                     ("augment", self.augment, AUGMENTATIONS)):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
        if not (isinstance(self.epochs, int) and self.epochs >= 1):
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ValueError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not 0 <= self.warmup < 1:
            raise ValueError(f"warmup is a share of the steps in [0, 1), got {self.warmup!r}")
        if self.schedule == "linear" and self.lr_drops:
            raise ValueError("lr_drops belong to the 'steps' schedule; the 'linear' schedule has none")
        if self.schedule == "steps" and self.warmup:
            raise ValueError("warmup belongs to the 'linear' schedule")
        if not self.weight_decay >= 0 or not 0 <= self.momentum < 1:
            raise ValueError(f"need weight_decay >= 0 and momentum in [0, 1), got {self.weight_decay}, {self.momentum}")
        if self.recalibration_size is not None and self.recalibration_size < 1:
            raise ValueError(f"recalibration_size must be None (all) or >= 1, got {self.recalibration_size!r}")

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """The names of the recipe's settings."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Recipe":
        """The recipe of an experiment's config: its recipe keys, defaults for the rest."""
        return cls(**{k: config[k] for k in cls.fields() if k in config})

    def settings(self) -> dict[str, Any]:
        """Every field as JSON types (lists for tuples): what a checkpoint's fingerprint hashes."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def replace(self, **changes: Any) -> "Recipe":
        return dataclasses.replace(self, **changes)


#: The names of a recipe's settings, as they appear in an experiment's config.
RECIPE_KEYS = Recipe.fields()


def learning_rate_at(recipe: Recipe, step: int, steps_per_epoch: int) -> float:
    """The rate of 0-based training step ``step`` of ``recipe.epochs × steps_per_epoch``.

    ``steps``: ``lr · 0.1^k`` with k the drops at or before the step's epoch (§8).
    ``linear``: with T steps in all and W = round(warmup · T) of warm-up, ``lr · (t + 1) / W``
    for t < W, then ``lr · (T − t) / (T − W)``: the rate falls by the same amount every step
    and would be 0 at step T, one past the last.
    """
    if steps_per_epoch < 1 or not 0 <= step:
        raise ValueError(f"need steps_per_epoch >= 1 and step >= 0, got {steps_per_epoch}, {step}")
    if recipe.schedule == "steps":
        epoch = step // steps_per_epoch
        return recipe.lr * DROP_FACTOR ** sum(epoch >= d for d in recipe.lr_drops)
    total = recipe.epochs * steps_per_epoch
    warm = round(recipe.warmup * total)
    if step < warm:
        return recipe.lr * (step + 1) / warm
    return recipe.lr * max(total - step, 0) / (total - warm)


#: Training-set sizes of the papers' experiments (§8): Lz is divided by N_train (eq. 3), so a run on
#: n images keeps the paper's per-example weight of the KL with β · n / N (:func:`beta_used`).
PAPER_N_TRAIN: dict[str, int] = {
    "MNIST": 60_000,
    "CIFAR-10": 50_000,           # also Occluded CIFAR, built on CIFAR-10's training images
    "Cluttered MNIST": 50_000,
}


def beta_used(beta: float, n_train: int, dataset: str) -> float:
    """The β a run on ``n_train`` images of ``dataset`` uses to weigh the KL per example as the
    paper's ``beta`` does on the paper's training set: β · n / N_paper (eq. 3)."""
    if not beta >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    if dataset not in PAPER_N_TRAIN:
        raise ValueError(f"no paper training-set size for {dataset!r}; known: {', '.join(PAPER_N_TRAIN)}")
    return beta * n_train / PAPER_N_TRAIN[dataset]

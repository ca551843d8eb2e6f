"""The loop's running sums and its NaN guard: per-epoch sums of the loss terms and errors kept on the
device, so that a GPU never waits on Python, and the first step whose loss was not finite."""
from __future__ import annotations

import torch
from torch import Tensor

#: Steps between host synchronisations that check the loss is still finite.
SYNC_EVERY = 500


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite; the message says where and suggests remedies."""


class EpochSums:
    """Per-epoch sums of the data term, Lz and errors, kept on the device (no host sync per step).

    Also remembers the first step whose loss was not finite, with its terms, for the error message.
    """

    def __init__(self, device: torch.device) -> None:
        self.values = torch.zeros(3, device=device)              # Σ n·ce, Σ n·lz, Σ wrong
        self.first_bad = torch.full((), -1, dtype=torch.long, device=device)
        self.bad_terms = torch.zeros(2, device=device)

    def add(self, step: int, ce: Tensor, lz: Tensor, wrong: Tensor, n: int) -> None:
        terms = torch.stack([ce.detach().float(), lz.detach().float()])
        self.values += torch.cat([terms * n, wrong.float().reshape(1)])
        newly_bad = (self.first_bad < 0) & ~torch.isfinite(terms).all()
        self.first_bad = torch.where(newly_bad, torch.full_like(self.first_bad, step), self.first_bad)
        self.bad_terms = torch.where(newly_bad, terms, self.bad_terms)

    def raise_if_not_finite(self, epoch: int, beta: float) -> None:
        step = int(self.first_bad)  # the host sync
        if step >= 0:
            ce, lz = self.bad_terms.tolist()
            raise NonFiniteLossError(
                f"non-finite loss at epoch {epoch + 1}, batch {step + 1}: CE={ce:.4g}, Lz={lz:.4g}, "
                f"beta={beta}. Lower the learning rate or beta (the original code warns beta <= 0.5 on "
                "Cluttered MNIST) and check the inputs for NaN.")

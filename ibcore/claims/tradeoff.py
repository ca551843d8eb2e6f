"""Rey & Mnih Fig. 2, measured on a committed result of ``pixelcnn-bottleneck``: the two rate-distortion
trade-offs (Gaussian dropout over p, the variational bottleneck over β) compared on their Pareto
fronts (:func:`pareto_front`) at equal VAE KL.
:func:`~ibcore.claims.measures_generative.gaussian_dropout_better` turns it into a verdict."""
from __future__ import annotations

from typing import Iterable, Sequence


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether the (VAE KL, −ELBO) point ``a`` beats ``b`` on both axes: at least as much KL and at
    most the −ELBO, one of them strictly (see :func:`pareto_front` for the direction)."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def pareto_front(points: Iterable[Sequence[float]]) -> list[tuple[float, float]]:
    """The non-dominated (VAE KL, −ELBO) points, sorted by KL (Rey & Mnih Fig. 2).

    A lower −ELBO is better; more VAE KL is the latent used more, which is what a bottleneck on a
    PixelCNN decoder is for (without one the decoder leaves z unused, KL ≈ 0), so more KL is better
    too, and the trade-off is that more KL costs −ELBO. A point is **dominated** when another point
    has at least as much KL and at most its −ELBO, one of them strictly (:func:`dominates`): e.g.
    Gaussian dropout at p = 0.5 (6.05 nats, 0.1266 bits/dim) dominates p = 0.7, 0.8 and 0.9, which
    have less KL *and* a higher −ELBO. The front is what is left: along it, −ELBO rises with KL.
    Duplicate points are kept once.
    """
    unique = sorted({(float(kl), float(nelbo)) for kl, nelbo in points})
    return [p for p in unique if not any(dominates(q, p) for q in unique)]


def _interp(front: list[tuple[float, float]], kl):
    import numpy as np

    xs, ys = zip(*front)
    return np.interp(kl, xs, ys)


def tradeoff_comparison(result: dict, n_grid: int = 101) -> dict:
    """Fig. 2's claim, measured on one seed's models: is Gaussian dropout's −ELBO lower than the
    variational bottleneck's at equal VAE KL, front against front?

    Each side's models (VAE KL, test −ELBO), in bits/dim, give its Pareto front
    (:func:`pareto_front`): a model beaten on both axes by a model of its own kind is off its front
    (``gd_off_front``: the p of each such Gaussian dropout model, ``vb_off_front``: the β). Each front
    is joined by straight lines. ``fronts`` holds both; ``kl_range_bpd`` is the KL range both fronts
    cover (a single KL when one front is a single model; None when they do not overlap). Over it,
    ``gap_bpd`` is the mean over ``n_grid`` evenly spaced KL values of VB front − GD front (positive:
    Gaussian dropout is ahead) and ``gd_better_share`` the share of those values where it is.
    Without an overlap the sides still compare point by point: ``gd_dominated`` lists the p of every
    Gaussian dropout model some variational bottleneck model beats on both axes, ``vb_dominated`` the
    β of every VB model some GD model beats. ``none_kl_nats`` is the no-bottleneck model's VAE KL
    (nats per image; near 0: its latents collapsed) and ``max_kl_nats`` the largest VAE KL of any
    bottleneck model, for scale.
    """
    import numpy as np

    models = {kind: [r for r in result["rows"] if r["bottleneck"] == kind]
              for kind in ("none", "gaussian", "variational")}
    for kind in ("gaussian", "variational"):
        if not models[kind]:
            raise ValueError(f"the result has no {kind!r} models")

    def point(r: dict) -> tuple[float, float]:
        return float(r["test_kl_bpd"]), float(r["test_nelbo_bpd"])

    def beaten(kind: str, by: str, strength: str) -> list:
        return [r.get(strength) for r in models[kind] if any(dominates(point(o), point(r)) for o in models[by])]

    gd, vb = (pareto_front(point(r) for r in models[kind]) for kind in ("gaussian", "variational"))
    low, high = max(gd[0][0], vb[0][0]), min(gd[-1][0], vb[-1][0])
    gap = share = None
    if high >= low:
        grid = np.linspace(low, high, n_grid if high > low else 1)
        difference = _interp(vb, grid) - _interp(gd, grid)
        gap, share = float(difference.mean()), float((difference > 0).mean())
    none = models["none"][0] if models["none"] else None
    return dict(fronts={"gaussian": gd, "variational": vb},
                kl_range_bpd=(float(low), float(high)) if high >= low else None, gap_bpd=gap, gd_better_share=share,
                gd_off_front=beaten("gaussian", "gaussian", "p"), vb_off_front=beaten("variational", "variational", "beta"),
                gd_dominated=beaten("gaussian", "variational", "p"),
                vb_dominated=beaten("variational", "gaussian", "beta"),
                none_kl_nats=none["test_kl"] if none else None,
                none_nelbo_bpd=none["test_nelbo_bpd"] if none else None,
                max_kl_nats=max(r["test_kl"] for r in models["gaussian"] + models["variational"]))


def tradeoff_by_seed(result: dict) -> dict[int, dict]:
    """:func:`tradeoff_comparison` once per seed of ``result``, lowest seed first: each seed's models form
    their own fronts (a seed that repeats only some models compares those)."""
    seeds: dict[int, list] = {}
    for row in result["rows"]:
        seeds.setdefault(int(row.get("seed", 0)), []).append(row)
    return {seed: tradeoff_comparison({"rows": seeds[seed]}) for seed in sorted(seeds)}


def tradeoff_prose(result: dict) -> tuple[dict[str, float], dict[str, str]]:
    """The numbers and words chapter 21 glues about Fig. 2 (keys without the chapter's prefix), from
    :func:`tradeoff_by_seed`. The first seed's whole sweep gives the no-bottleneck and largest VAE KL
    (nats), the models beaten across the sides, each side's models and those on its front, and where
    the fronts share a VAE KL the gap there (bits/dim), the share of it where Gaussian dropout is ahead
    (%) and ``equal-kl-span``, the common KL in words ("a single VAE KL, 6.05 nats" or a range). Over
    every seed whose fronts share a KL: ``equal-kl-seeds``, the gap's mean and sd (``equal-kl-gap-mean``,
    ``-sd``), ``equal-kl-gaps``, each seed's gap in words, and ``equal-kl-interval``, the mean with its
    95 % t interval over the seeds (the interval the verdict reads)."""
    by_seed = tradeoff_by_seed(result)
    first = min(by_seed)
    comparison, fronts = by_seed[first], by_seed[first]["fronts"]
    numbers = {"none-kl": comparison["none_kl_nats"], "max-kl": comparison["max_kl_nats"],
               "gd-beaten": len(comparison["gd_dominated"]), "vb-beaten": len(comparison["vb_dominated"]),
               "gd-models": len(fronts["gaussian"]) + len(comparison["gd_off_front"]),
               "gd-front": len(fronts["gaussian"]), "gd-off-front": len(comparison["gd_off_front"]),
               "vb-models": len(fronts["variational"]) + len(comparison["vb_off_front"]),
               "vb-front": len(fronts["variational"]), "seeds": len(by_seed)}
    texts = {}
    if comparison["gap_bpd"] is not None:
        low, high = comparison["kl_range_bpd"]
        row = next(r for r in result["rows"] if r.get("test_kl_bpd"))
        nats = row["test_kl"] / row["test_kl_bpd"]  # D ln 2 nats per bit/dim
        texts["equal-kl-span"] = (f"a single VAE KL, {low * nats:.2f} nats" if high == low
                                  else f"the VAE-KL range {low * nats:.2f}–{high * nats:.2f} nats")
        numbers.update({"equal-kl-gap": comparison["gap_bpd"], "equal-kl-gd-better": 100 * comparison["gd_better_share"]})
    gaps = {seed: c["gap_bpd"] for seed, c in by_seed.items() if c["gap_bpd"] is not None}
    if gaps:
        import statistics

        numbers.update({"equal-kl-seeds": len(gaps), "equal-kl-gap-mean": statistics.fmean(gaps.values())})
        if len(gaps) > 1:
            from ibcore.claims.verdicts import Sample, mean_interval

            numbers["equal-kl-gap-sd"] = statistics.stdev(gaps.values())
            texts["equal-kl-interval"] = mean_interval(Sample.of(list(gaps.values()))).text(4)
        texts["equal-kl-gaps"] = ", ".join(f"{gap:+.4f} (seed {seed})" for seed, gap in gaps.items()).replace("-", "−")
    return {k: v for k, v in numbers.items() if v is not None}, texts

"""Rey & Mnih Fig. 2, measured on a committed result of ``pixelcnn-bottleneck``: the two rate-distortion
curves (Gaussian dropout over p, the variational bottleneck over β) compared at equal VAE KL.
:func:`~ibcore.claims.measures_generative.gaussian_dropout_better` turns it into a verdict."""
from __future__ import annotations


def tradeoff_comparison(result: dict, n_grid: int = 101) -> dict:
    """Fig. 2's claim, measured: is Gaussian dropout's −ELBO lower than the variational bottleneck's
    at equal VAE KL?

    Each curve (Gaussian dropout over p, the variational bottleneck over β) is its models' points
    (VAE KL, test −ELBO), in bits/dim, sorted by KL and joined by straight lines. Over the KL range
    both curves cover, ``gap_bpd`` is the mean over ``n_grid`` evenly spaced KL values of
    VB −ELBO − GD −ELBO (positive: Gaussian dropout is better) and ``gd_better_share`` the share of
    those values where it is; both are None when the ranges do not overlap. Without an
    overlap the curves still compare point by point: ``gd_dominated`` lists the p of every Gaussian
    dropout model that some variational bottleneck model beats on both axes (more VAE KL and a
    lower −ELBO), ``vb_dominated`` the β of every VB model that some GD model beats.
    ``none_kl_nats`` is the no-bottleneck model's VAE KL (nats per image; near 0: its latents
    collapsed) and ``max_kl_nats`` the largest VAE KL of any bottleneck model, for scale.
    """
    import numpy as np

    models = {kind: [r for r in result["rows"] if r["bottleneck"] == kind]
              for kind in ("none", "gaussian", "variational")}

    def curve(kind: str) -> np.ndarray:
        if not models[kind]:
            raise ValueError(f"the result has no {kind!r} models")
        return np.array(sorted((r["test_kl_bpd"], r["test_nelbo_bpd"]) for r in models[kind]))

    def beaten(kind: str, by: str, strength: str) -> list:
        return [r.get(strength) for r in models[kind] if any(
            o["test_kl_bpd"] > r["test_kl_bpd"] and o["test_nelbo_bpd"] < r["test_nelbo_bpd"] for o in models[by])]

    gd, vb = curve("gaussian"), curve("variational")
    low, high = max(gd[0, 0], vb[0, 0]), min(gd[-1, 0], vb[-1, 0])
    gap = share = None
    if high > low:
        grid = np.linspace(low, high, n_grid)
        difference = np.interp(grid, vb[:, 0], vb[:, 1]) - np.interp(grid, gd[:, 0], gd[:, 1])
        gap, share = float(difference.mean()), float((difference > 0).mean())
    none = models["none"][0] if models["none"] else None
    return dict(kl_range_bpd=(float(low), float(high)) if high > low else None, gap_bpd=gap, gd_better_share=share,
                gd_dominated=beaten("gaussian", "variational", "p"),
                vb_dominated=beaten("variational", "gaussian", "beta"),
                none_kl_nats=none["test_kl"] if none else None,
                none_nelbo_bpd=none["test_nelbo_bpd"] if none else None,
                max_kl_nats=max(r["test_kl"] for r in models["gaussian"] + models["variational"]))

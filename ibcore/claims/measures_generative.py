"""How a committed result speaks to the claims about generative models: Table I and eq. 7 of
Achille & Soatto (the VAE, §7), Fig. 2 and the latent collapse of Rey & Mnih (the VAE-PixelCNN).
Each measure returns a :class:`~ibcore.claims.measures.Finding`, as in :mod:`.measures`."""
from __future__ import annotations

from typing import Mapping

from ibcore.claims.measures import Finding, Rows, by, ends, sample
from ibcore.claims.tradeoff import tradeoff_by_seed
from ibcore.claims.verdicts import (NOT_SHOWN, PARTLY, POINTS_AGAINST, Interval, Sample, differ, paired, similar, trend,
                                    weakest, welch)


def kl_trades_reconstruction(result: Mapping) -> Finding:
    """eq. 7: as β grows the KL falls and the reconstruction term gets worse."""
    kl, rec = (by(result["rows"], "beta", m) for m in ("test_kl", "test_reconstruction"))
    verdict = weakest(trend(list(kl.values()), "<"), trend(list(rec.values()), "<"))
    text = f"KL {ends(kl, 1)}; reconstruction {ends(rec, 1).split(': ', 1)[1]} nats"
    return Finding(text, verdict, tuple(s.n for s in kl.values()))



#: Table I of the paper: test ELBO (nats), Gaussian and Information latent, per k.
TABLE_I = {1: (-98.8, -100.0), 2: (-99.0, -99.1), 3: (-98.7, -99.1)}
#: "Similar performance": the two ELBOs within this many nats (Table I's largest gap is 1.2).
SIMILAR_NATS = 2.0


def elbo_gap_interval(result: Mapping) -> Interval:
    """Table I's gap, the Gaussian latent's test ELBO minus the Information latent's (nats; > 0: the
    Information latent behind), with its 95 % Welch interval over seeds (the interval
    :func:`similar_elbo` reads against ±:data:`SIMILAR_NATS`)."""
    gaussian, information = (sample(result["rows"], "test_elbo", latent=kind) for kind in ("gaussian", "information"))
    if gaussian is None or information is None:
        raise ValueError("elbo_gap_interval needs rows of both latents, gaussian and information")
    return welch(gaussian, information)


def similar_elbo(result: Mapping) -> Finding:
    """Table I at one k: the Gaussian and the Information latent reach a similar test ELBO."""
    rows = result["rows"]
    gaussian, information = (sample(rows, "test_elbo", latent=kind) for kind in ("gaussian", "information"))
    if gaussian is None or information is None:
        return Finding("one of the two latents is missing", NOT_SHOWN)
    paper = TABLE_I.get(rows[0].get("k", 1))
    text = f"Gaussian {gaussian.text(1)}, Information {information.text(1)} nats"
    if paper:
        text += f" (paper {paper[0]:.1f}, {paper[1]:.1f})"
    return Finding(text.replace("-", "−"), similar(information, gaussian, SIMILAR_NATS),
                   (gaussian.n, information.n))


def elbo_gap_by_epoch(result: Mapping) -> list[float]:
    """Table I's gap after each epoch: the Information latent's test −ELBO minus the Gaussian latent's
    (nats; > 0: the Information latent behind), each the mean over seeds of the rows' per-epoch test
    −ELBO; as long as the shortest history. How far a schedule cut short is from its end: at k = 1,
    the gap at epoch 150 against epoch 300."""
    curves = {kind: [r["history"]["test_nelbo"] for r in result["rows"] if r["latent"] == kind]
              for kind in ("gaussian", "information")}
    if not curves["gaussian"] or not curves["information"]:
        raise ValueError("elbo_gap_by_epoch needs rows of both latents, gaussian and information")
    epochs = min(len(c) for rows in curves.values() for c in rows)
    mean = {kind: [sum(c[e] for c in rows) / len(rows) for e in range(epochs)] for kind, rows in curves.items()}
    return [i - g for i, g in zip(mean["information"], mean["gaussian"])]


def _nats_per_bpd(rows: Rows) -> float | None:
    """The factor from bits/dim to nats per image of a result's VAE KL (D · ln 2), read off its rows."""
    ratios = [r["test_kl"] / r["test_kl_bpd"] for r in rows if r.get("test_kl_bpd")]
    return sorted(ratios)[len(ratios) // 2] if ratios else None


def gaussian_dropout_better(result: Mapping) -> Finding:
    """Rey & Mnih Fig. 2: at equal VAE KL, Gaussian dropout's −ELBO is below the variational
    bottleneck's, read front against front (:func:`~ibcore.claims.tradeoff.pareto_front`: a model
    beaten on both axes by one of its own kind is off its front): the gap of
    :func:`~ibcore.claims.tradeoff.tradeoff_comparison` over the KL range both fronts cover, one per
    seed (:func:`~ibcore.claims.verdicts.paired`, so one seed is partly or points against); where the
    fronts cover no common KL, the points that beat the other side's on both axes."""
    found = list(tradeoff_by_seed(result).values())
    off = [f"GD p {', '.join(f'{v:g}' for v in sorted({p for f in found for p in f['gd_off_front']}))}",
           f"VB β {', '.join(f'{v:g}' for v in sorted({b for f in found for b in f['vb_off_front']}))}"]
    off = [o for o in off if not o.endswith(" ")]
    note = "off their own side's front: " + ("; ".join(off) if off else "none")
    overlapping = [f for f in found if f["gap_bpd"] is not None]
    if overlapping:
        gap = Sample.of([f["gap_bpd"] for f in overlapping])
        gd_share = sum(f["gd_better_share"] for f in overlapping) / len(overlapping)
        side, share = ("GD", gd_share) if gap.mean > 0 else ("VB", 1 - gd_share)  # the side ahead on average
        factor = _nats_per_bpd(result["rows"])
        ranges = [f["kl_range_bpd"] for f in overlapping]
        low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
        span = (f"{low * factor:.2f} nats" if high == low else f"{low * factor:.2f}–{high * factor:.2f} nats") \
            if factor else (f"{low:.4f} bits/dim" if high == low else f"{low:.4f}–{high:.4f} bits/dim")
        sizes = "; ".join(f"{len(f['fronts']['gaussian'])} GD and {len(f['fronts']['variational'])} VB models on the "
                          f"fronts" for f in overlapping[:1])
        shown = gap.text(4) if gap.n > 1 else f"{gap.mean:+.4f}"
        text = (f"Pareto fronts ({sizes}), common KL {span}: VB − GD −ELBO there {shown} bits/dim "
                f"({side} ahead on {100 * share:.0f} % of it)")
        return Finding(text.replace("-", "−"), paired(gap, ">"), (gap.n,), note=note)
    gd = sorted({p for f in found for p in f["gd_dominated"]})
    vb = sorted({b for f in found for b in f["vb_dominated"]})
    def at(name: str, values: list) -> str:
        return f"at {name} {', '.join(f'{v:g}' for v in values)}" if values else "never"
    text = f"no common KL of the fronts; VB beats GD on both axes {at('p', gd)}; GD beats VB {at('β', vb)}"
    one_sided = (PARTLY if vb and not gd else POINTS_AGAINST if gd and not vb else NOT_SHOWN)
    verdict = one_sided if len(found) == 1 or one_sided == NOT_SHOWN else NOT_SHOWN  # dominance counts on one seed only
    return Finding(text, verdict, (len(found),), note=note)


def latents_collapse(result: Mapping) -> Finding:
    """Rey & Mnih §1, §3: without a bottleneck the autoregressive decoder leaves the latents unused
    (VAE KL near 0); a bottleneck raises it (the setting with the most VAE KL)."""
    rows = result["rows"]
    none = sample(rows, "test_kl", bottleneck="none")
    settings = [sample(rows, "test_kl", bottleneck=kind, **{strength: level})
                for kind, strength in (("gaussian", "p"), ("variational", "beta"))
                for level in {r[strength] for r in rows if r["bottleneck"] == kind}]
    if none is None or not settings:
        return Finding("no run without a bottleneck, or none with one", NOT_SHOWN)
    top = max(settings, key=lambda s: s.mean)
    return Finding(f"VAE KL: no bottleneck {none.text(2)}, bottlenecks up to {top.text(1)} nats",
                   differ(none, top, "<"), (none.n, top.n))

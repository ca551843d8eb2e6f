"""§7, Table I: the VAE as Information Dropout with y = x, Gaussian vs Information latent, and β."""
from __future__ import annotations

from ibcore import cache
from ibcore.experiments.common import EXECUTION, fit_trial, grid, mnist_split, seed_table
from ibcore.experiments.registry import Config, Experiment, TrialRun, declare_baseline, register

#: Binarisation of MNIST for the Bernoulli decoder: a fixed threshold (deterministic).
BINARIZE_THRESHOLD = 0.5


def binarized_mnist(config: Config) -> tuple:
    """Flattened binarised MNIST (x > 0.5 → 1), train and test, cut to ``n_train``/``n_test``."""
    train, test = mnist_split(config)
    return tuple((t[0] > BINARIZE_THRESHOLD).float().flatten(1) for t in (train, test))


def _identity(config: Config) -> dict:
    from ibcore.data import identity

    x, x_test = binarized_mnist(config)
    return identity("binarised MNIST", (x,), (x_test,),
                    binarization=f"fixed threshold: x > {BINARIZE_THRESHOLD}")


def _vae_images(model, x, n: int, seed: int) -> dict:
    """Originals, one-sample reconstructions (p(x|z), z ~ q(z|x)) and prior samples, packed."""
    import torch

    from ibcore.train import latent_noise, model_device

    torch.manual_seed(seed)
    model.eval()
    with torch.no_grad(), latent_noise(model):
        reconstructions = torch.sigmoid(model(x[:n].to(model_device(model))))
    samples = model.sample(n, torch.Generator().manual_seed(seed))
    return dict(reconstructions=cache.encode_array(reconstructions.cpu().reshape(-1, 28, 28)),
                samples=cache.encode_array(samples.cpu().reshape(-1, 28, 28)))


#: A latent unit is "active" when its KL, averaged over the test images, exceeds this (nats).
ACTIVE_NATS = 0.1
#: α counts as "near its cap" within this fraction of it.
NEAR_CAP = 0.05


def _latent_diagnostics(model, x, max_alpha: float) -> dict:
    """Per-unit KL averaged over ``x``: units with > :data:`ACTIVE_NATS` ("active"), and, for the
    Information latent, the mean α and the share of α within :data:`NEAR_CAP` of its cap."""
    import torch

    from ibcore import kl as kl_terms
    from ibcore.train import model_device

    model.eval()
    with torch.no_grad():
        loc, scale = model.posterior(x.to(model_device(model)))
        if model.latent_kind == "gaussian":
            unit_kl = kl_terms.gaussian(loc, scale)
        else:
            layer = model.latent
            unit_kl = kl_terms.log_normal(loc, scale, layer.prior_mu, layer.prior_log_sigma.exp())
    out = dict(active_units=int((unit_kl.mean(0) > ACTIVE_NATS).sum()), latent_units=int(unit_kl.shape[1]))
    if model.latent_kind == "information":
        cap = max_alpha + kl_terms.ALPHA_FLOOR
        out.update(alpha_mean=float(scale.mean()), alpha_near_cap=float((scale > (1 - NEAR_CAP) * cap).double().mean()))
    return out


def _vae_trial(config: Config, settings: dict, run: TrialRun) -> dict:
    """One VAE (latent kind, β, seed) trained on eq. 7 and measured: test ELBO, KL, active units, images."""
    import torch

    from ibcore.models import VAE
    from ibcore.train import total_seconds

    x, x_test = binarized_mnist(config)
    latent, beta, seed = settings["latent"], settings["beta"], settings["seed"]
    k = settings.get("k", config.get("k"))  # a grid axis of vae-elbo (Table I's k), a setting of vae-beta
    torch.manual_seed(seed)
    model = VAE(latent, k=k, max_alpha=config["max_alpha"])
    history = fit_trial(model, (x, x), (x_test, x_test), config, run, objective="reconstruction",
                        beta=beta, seed=seed)
    return dict(latent=latent, beta=beta, seed=seed, k=k, epochs=config["epochs"],
                test_elbo=-history["test_nelbo"][-1], test_reconstruction=-history["test_ce"][-1],
                test_kl=history["test_lz"][-1], seconds=total_seconds(history), history=history,
                **_latent_diagnostics(model, x_test, config["max_alpha"]),
                **_vae_images(model, x_test, config["n_images"], seed))


def _combine(config: Config, rows: list[dict]) -> dict:
    _, x_test = binarized_mnist(config)
    keys = ("k", "latent", "beta", "seed", "epochs", "test_elbo", "test_reconstruction", "test_kl", "active_units",
            "seconds")
    summary = [{key: r[key] for key in keys if key in r and (key != "k" or "ks" in config)} for r in rows]
    return dict(rows=rows, summary=summary,
                originals=cache.encode_array(x_test[:config["n_images"]].reshape(-1, 28, 28)))


def latent_table(result: dict):
    """Table I's reading of a vae-elbo result, one row per latent (and k, where it has several): the
    seeds, the mean test ELBO, its standard deviation over seeds (``test_elbo sd``), and the mean of
    the other numbers; plus ``seconds_per_epoch``, a trial's seconds over its epochs."""
    records = [{**row, "seconds_per_epoch": row["seconds"] / row["epochs"]} for row in result["summary"]]
    by = ["k", "latent"] if len({r.get("k") for r in records}) > 1 else ["latent"]
    return seed_table(records, by, sd_of=("test_elbo",)).drop(columns=["beta", "epochs"], errors="ignore")


# Optimiser and learning rate are not stated in the paper (Kingma & Welling used Adagrad); Adam 1e-3,
# the default of the original code's task.py.
_BASE = dict(k=1, max_alpha=0.7, optimizer="adam", lr=1e-3, momentum=0.9, batch_size=100,
             seeds=[0], n_train=0, n_test=0, n_images=8, **EXECUTION)
_FULL = {**_BASE, "epochs": 300, "lr_drops": [30, 120]}
BETAS = [0.25, 0.5, 1.0, 2.0, 4.0]


def _vae_experiment(name: str, reproduces: str, profiles: dict, axes: dict, version: int) -> Experiment:
    return register(Experiment(
        name=name, reproduces=reproduces, profiles=profiles,
        trials=lambda config: grid(config, **axes),
        run_trial=_vae_trial, data=_identity, grid=tuple(axes.values()), combine=_combine,
        format_version=version))


#: Table I's sizes, largest first (the longest trials start first): latent 256·k, hidden 512·k.
TABLE_I_KS = [3, 2, 1]
_ELBO = {k: v for k, v in _BASE.items() if k != "k"}

_vae_experiment(
    "vae-elbo", "Table I (§7, §8): test ELBO of a VAE with a Gaussian vs an Information Dropout latent, "
                "k = 1, 2, 3 (latent 256·k, hidden 512·k)",
    {"quick": {**_ELBO, "ks": [1], "latents": ["gaussian", "information"], "betas": [1.0], "epochs": 5,
               "lr_drops": [], "n_train": 10000, "n_test": 2000},
     # 50 of the paper's 300 epochs on all 22,699 training images, the rate decayed linearly to 0 after a
     # 5 % warm-up. Probed on the 2-core machine (one thread, another training on the other core): an
     # epoch takes 2.4 / 9.0 / 17.8 s at k = 1 / 2 / 3 (both latents alike) before the test ELBO; the
     # 6 trials share out as ~1,700 s per worker at --jobs 2 (~30 min). 100 epochs (~65 min) would fit
     # the 90-minute budget too; 50 is what the session that made the committed run had room for.
     "cpu": {**_ELBO, "ks": TABLE_I_KS, "latents": ["gaussian", "information"], "betas": [1.0], "epochs": 50,
             "schedule": "linear", "warmup": 0.05},
     # gpu: the cpu profile's recipe with 2 seeds per k and latent.
     "gpu": {**_ELBO, "ks": TABLE_I_KS, "latents": ["gaussian", "information"], "betas": [1.0], "seeds": [0, 1],
             "epochs": 50, "schedule": "linear", "warmup": 0.05},
     "full": {**{k: v for k, v in _FULL.items() if k != "k"}, "ks": TABLE_I_KS,
              "latents": ["gaussian", "information"], "betas": [1.0]}},
    axes=dict(k="ks", latent="latents", beta="betas", seed="seeds"), version=3)
declare_baseline("vae-elbo", -110.0, "the Gaussian latent at the same k", where={"latent": "gaussian"},
                 metric="test_elbo", unit="nats", at_least=True,
                 why="Table I: −98.8 nats; ignoring z (the pixel marginals) scores −206 nats on this data")

#: Table I at k = 1 on the paper's own schedule: 300 epochs, Adam 1e-3 ×0.1 at epochs 30 and 120, three seeds
#: per latent (issue 26). An epoch at k = 1 takes 2.2–2.7 s on one thread (vae-elbo's cpu run: 108 s and
#: 133 s for 50 epochs), so the 6 trials take ~4,350 s of trial time: ~36 min at --jobs 2, ~73 min at --jobs 1.
_TABLE_I_K1 = {**_ELBO, "ks": [1], "latents": ["gaussian", "information"], "betas": [1.0], "seeds": [0, 1, 2],
               "epochs": 300, "lr_drops": [30, 120]}
_vae_experiment(
    "vae-elbo-k1", "Table I (§7, §8) at k = 1 on the paper's schedule (300 epochs, drops at 30 and 120), three "
                   "seeds: test ELBO of a VAE with a Gaussian vs an Information Dropout latent",
    {"quick": {**_TABLE_I_K1, "seeds": [0], "epochs": 3, "lr_drops": [], "n_train": 4000, "n_test": 1000},
     # gpu: a sixth of the schedule (drops at a sixth of the paper's epochs), to stay within the gpu
     # profiles' budget (each ≤ 150 s, all ≤ 20 min): a VAE step is dispatch-bound on a GPU, so 300 epochs
     # would take ~420 s even for one seed. The cpu profile is the paper's schedule.
     "cpu": _TABLE_I_K1, "gpu": {**_TABLE_I_K1, "epochs": 50, "lr_drops": [5, 20]}, "full": _TABLE_I_K1},
    axes=dict(k="ks", latent="latents", beta="betas", seed="seeds"), version=3)
declare_baseline("vae-elbo-k1", -110.0, "the Gaussian latent", where={"latent": "gaussian"},
                 metric="test_elbo", unit="nats", at_least=True,
                 why="Table I: −98.8 nats; ignoring z (the pixel marginals) scores −206 nats on this data")

#: Table I at k = 2 (latent 512, hidden 1024) with the paper's optimiser and drops (Adam 1e-3 ×0.1 at epochs
#: 30 and 120) for 150 of its 300 epochs, two seeds per latent (issue 26: "k = 2 at the longest schedule that
#: fits, 2 seeds"). An epoch at k = 2 takes 5.9-7.0 s at --jobs 2 (vae-elbo's cpu run: 295 s and 352 s for
#: 50 epochs) and about twice that on one thread beside a busy core (vae-elbo-k1's cpu run was 1.5-2× its
#: estimate), so the 4 trials take ~6,000 s of trial time: ~50 min at --jobs 2, ~100 min at --jobs 1 (the
#: committed run: 5,796 s, 1,189-1,645 s a trial, the Information latent's the slower). The
#: 150 epochs after epoch 150 run at 1e-5: at k = 1 they moved the two latents' gap by under 0.1 nats
#: (claims.measures_generative.elbo_gap_by_epoch reads it from vae-elbo-k1's histories). The seed is the
#: outer axis, so a run cut short still has both latents at seed 0.
_TABLE_I_K2 = {**_ELBO, "ks": [2], "latents": ["gaussian", "information"], "betas": [1.0], "seeds": [0, 1],
               "epochs": 150, "lr_drops": [30, 120]}
_vae_experiment(
    "vae-elbo-k2", "Table I (§7, §8) at k = 2 on the paper's optimiser and drops (150 of its 300 epochs), two "
                   "seeds: test ELBO of a VAE with a Gaussian vs an Information Dropout latent",
    {"quick": {**_TABLE_I_K2, "seeds": [0], "epochs": 2, "lr_drops": [], "n_train": 2000, "n_test": 1000},
     # gpu: a tenth of the schedule (drops at a tenth of the paper's), to stay within the gpu profiles'
     # budget (all ≤ 20 min). The cpu profile is the one the claim reads.
     "cpu": _TABLE_I_K2, "gpu": {**_TABLE_I_K2, "epochs": 15, "lr_drops": [3, 12]},
     "full": {**_TABLE_I_K2, "epochs": 300}},
    axes=dict(seed="seeds", k="ks", latent="latents", beta="betas"), version=3)
declare_baseline("vae-elbo-k2", -110.0, "the Gaussian latent", where={"latent": "gaussian"},
                 metric="test_elbo", unit="nats", at_least=True,
                 why="Table I: −98.8 nats at k = 2; ignoring z (the pixel marginals) scores −206 nats on this data")

_vae_experiment(
    "vae-beta", "eq. 7 (§7): the Information Dropout VAE for β in {0.25, 0.5, 1, 2, 4}",
    {"quick": {**_BASE, "latents": ["information"], "betas": BETAS, "epochs": 2, "lr_drops": [],
               "n_train": 4000, "n_test": 1000},
     # vae-elbo's cpu recipe (50 epochs, linear decay after a 5 % warm-up) at every β, two seeds: 10 trials of
     # ~3-4 s an epoch on one thread (vae-elbo-k1's cpu run), ~17 min at --jobs 2 (issue 26: ≥ 3 β, ≥ 50
     # epochs, 2 seeds).
     "cpu": {**_BASE, "latents": ["information"], "betas": BETAS, "seeds": [0, 1], "epochs": 50,
             "schedule": "linear", "warmup": 0.05},
     # gpu: 32 epochs (40 before vae-elbo-k2 needed room in the gpu profiles' 20 minutes).
     "gpu": {**_BASE, "latents": ["information"], "betas": BETAS, "seeds": [0, 1], "epochs": 32, "lr_drops": [],
             "schedule": "linear", "warmup": 0.05},
     "full": {**_FULL, "latents": ["information"], "betas": BETAS}},
    axes=dict(latent="latents", beta="betas", seed="seeds"), version=2)
declare_baseline("vae-beta", -110.0, "β = 1 (the ELBO)", where={"beta": 1.0}, metric="test_elbo", unit="nats",
                 at_least=True, why="as vae-elbo: Table I has −98.8 nats, ignoring z scores −206 nats")

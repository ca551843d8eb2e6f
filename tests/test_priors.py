"""§6, Fig. 1: capturing post-noise activations and measuring how well the priors fit them."""
import numpy as np
import pytest
import torch

from ibcore import experiments, metrics
from ibcore.layers import bottlenecks
from ibcore.metrics.representations import noisy_copy
from ibcore.models import MLP
from ibcore.train import noise_on


def trained_like_mlp(activation="relu", layers=2, seed=0):
    torch.manual_seed(seed)
    model = MLP([12] * layers, "information", in_features=10, n_classes=3, activation=activation)
    with torch.no_grad():  # non-trivial BatchNorm statistics
        for layer in bottlenecks(model):
            layer.norm.running_mean.uniform_(-0.5, 0.5)
            layer.norm.running_var.uniform_(0.5, 2.0)
    return model.eval()


def test_hook_captures_the_last_layer_without_noise():
    model = trained_like_mlp()
    x = torch.randn(50, 10)
    z = metrics.layer_outputs(model, x, -1, noisy=False, batch_size=16)
    assert z.shape == (50, 12)
    with torch.no_grad():
        assert torch.allclose(z, model.hidden(x))  # the last Information Dropout layer ends model.hidden
    first = metrics.layer_outputs(model, x, 0, noisy=False)
    with torch.no_grad():
        assert torch.allclose(first, model.hidden[0](x))


def test_noise_is_log_normal_with_the_layers_alpha():
    model = trained_like_mlp(layers=1)
    layer = bottlenecks(model)[0]
    x = torch.randn(4000, 10)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    z = metrics.layer_outputs(model, x, 0, noisy=True, calibration=x)
    twin = noisy_copy(model, x)  # the BatchNorm statistics noisy evaluation uses
    with torch.no_grad():
        f, alpha = twin.hidden(x), layer.alpha(x)
    keep = f > 1e-3
    standardised = (torch.log(z[keep] / f[keep]) / alpha[keep]).double()
    assert abs(float(standardised.mean())) < 0.03 and abs(float(standardised.std()) - 1) < 0.03
    # nothing changed: eval mode, training flags and BatchNorm statistics restored
    assert not model.training and not any(m.training for m in model.modules())
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_noisy_evaluation_uses_batchnorm_statistics_measured_with_the_noise_on():
    """Issue 9.1: after a noisy layer, BatchNorm must normalise ε·f(x) with ε·f(x)'s own statistics."""
    from ibcore.train import fit

    torch.manual_seed(0)
    x = torch.randn(3000, 10)
    y = (x[:, 0] + x[:, 1] > 0).long()
    model = MLP([12, 12], "information", in_features=10, n_classes=2, max_alpha=0.7)
    fit(model, (x, y), (x, y), beta=0.0, epochs=2, lr=0.05, batch_size=100, progress=False)
    second = bottlenecks(model)[1]
    twin = noisy_copy(model, x, seed=1)
    inputs = []
    # f(x) as the norm reads it (f and g may run as one fused call, which no hook on f sees)
    hook = bottlenecks(twin)[1].norm.register_forward_pre_hook(lambda m, i: inputs.append(i[0].detach()))
    torch.manual_seed(2)  # other noise samples than the calibration's
    with torch.no_grad(), noise_on(twin):
        twin(x)
    hook.remove()
    measured = torch.cat(inputs).double()
    noisy_norm = bottlenecks(twin)[1].norm
    assert torch.allclose(noisy_norm.running_mean.double(), measured.mean(0), rtol=0.03, atol=0.03)
    ratio = noisy_norm.running_var.double() / measured.var(0)  # Monte Carlo: heavy-tailed ε
    assert (ratio - 1).abs().max() < 0.15 and abs(float(ratio.mean()) - 1) < 0.04
    # ... and they are not the noise-off statistics fit leaves in the model (those are too small).
    assert (second.norm.running_var < 0.95 * noisy_norm.running_var).float().mean() > 0.5
    assert torch.equal(second.norm.running_var, bottlenecks(model)[1].norm.running_var)  # model untouched


def test_noisy_layer_outputs_need_the_training_inputs():
    with pytest.raises(ValueError, match="calibration"):
        metrics.layer_outputs(trained_like_mlp(), torch.randn(3, 10), noisy=True)


def test_layer_outputs_bad_input():
    with pytest.raises(ValueError, match="no bottleneck"):
        metrics.layer_outputs(MLP([4], "binary", in_features=10), torch.randn(3, 10))
    with pytest.raises(ValueError, match="out of range"):
        metrics.layer_outputs(trained_like_mlp(), torch.randn(3, 10), 5, noisy=False)


def test_zero_fraction():
    assert metrics.zero_fraction([0.0, 0.0, 1.0, 2.5]) == 0.5
    assert metrics.zero_fraction(torch.relu(torch.tensor([-1.0, 1.0, 2.0, -3.0, 0.5]))) == pytest.approx(0.4)
    with pytest.raises(ValueError, match=">= 0"):
        metrics.zero_fraction([-1.0, 2.0])


def test_lognormal_fit_knows_a_log_normal_from_a_log_uniform():
    rng = np.random.default_rng(0)
    good = metrics.lognormal_fit(np.exp(rng.normal(1.5, 0.5, 50_000)))
    assert good["mu"] == pytest.approx(1.5, abs=0.01) and good["sigma"] == pytest.approx(0.5, abs=0.01)
    assert good["ks"] < 1.36 / np.sqrt(50_000) * 1.5 and good["qq_r2"] > 0.999
    bad = metrics.lognormal_fit(np.exp(rng.uniform(-3, 3, 50_000)))  # log-uniform: flat in log z
    assert bad["ks"] > 0.05 and bad["qq_r2"] < 0.99
    # zeros are ignored (they are the δ₀ part of the ReLU prior)
    with_zeros = metrics.lognormal_fit(np.concatenate([np.zeros(1000), np.exp(rng.normal(0, 1, 5000))]))
    assert with_zeros["n"] == 5000


def test_ks_statistic_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    logs = np.random.default_rng(1).gamma(3.0, size=2000)
    ours = metrics.lognormal_fit(np.exp(logs))
    standardised = (logs - logs.mean()) / logs.std()
    assert ours["ks"] == pytest.approx(stats.kstest(standardised, "norm").statistic, abs=1e-9)


def test_log_histogram_accounts_for_every_value():
    z = np.concatenate([np.zeros(30), np.exp(np.linspace(-2, 2, 70))])
    hist = metrics.log_histogram(z, bins=8, log_range=(-2.0, 2.0))
    assert len(hist["edges"]) == 9 and hist["zeros"] == 30 and hist["total"] == 100
    assert sum(hist["counts"]) + hist["zeros"] == 100
    with pytest.raises(ValueError, match="bins"):
        metrics.log_histogram(z, bins=0)


def test_activation_priors_experiment_on_tiny_data(fake_mnist_root, monkeypatch):
    monkeypatch.setenv("IBCORE_DATA", str(fake_mnist_root))
    result = experiments.run("activation-priors", "quick", progress=False, width=16, epochs=1,
                             n_train=300, n_test=100, bins=10)
    rows = {r["activation"]: r for r in result["rows"]}
    assert rows["relu"]["prior"] == "log-uniform" and rows["softplus"]["prior"] == "log-normal"
    assert all(0 <= row["clean_train_error"] <= 1 for row in rows.values())
    assert [s["clean_train_error"] for s in result["summary"]] == [r["clean_train_error"] for r in result["rows"]]
    assert 0.1 < rows["relu"]["zero_fraction"] < 0.9  # BatchNorm then ReLU: many exact zeros
    assert rows["softplus"]["zero_fraction"] == 0.0
    assert len(rows["softplus"]["learned_prior"]["mu"]) == 16
    assert sum(rows["relu"]["histogram"]["counts"]) <= rows["relu"]["n_values"] == 100 * 16
    # the noise-off control (issue 27 item 7): f(x) alone, fitted the same way, named in the verdict's note
    assert rows["softplus"]["zero_fraction_noise_off"] == 0.0 and rows["relu"]["zero_fraction_noise_off"] > 0
    assert rows["softplus"]["fit_noise_off"]["n"] == 100 * 16
    assert rows["softplus"]["fit_noise_off"] != rows["softplus"]["fit"]  # the noise changes the values
    from ibcore.claims.measures import softplus_prior

    assert "control, not a claim of the paper: the noise-off f(x): KS" in softplus_prior(result).note


def test_the_noise_off_control_tells_the_noise_from_the_features():
    """A log-normal fit of z = ε · f(x) can be the noise's: with f(x) uniform (not log-normal) and
    ε log-normal with a large α, z fits a log-normal much better than f(x) does."""
    from ibcore.claims.measures import KS_GOOD, noise_off_prior

    torch.manual_seed(0)
    f = torch.rand(20_000) * 0.9 + 0.1
    z = f * torch.exp(2.0 * torch.randn(20_000))
    row = dict(fit=metrics.lognormal_fit(z), fit_noise_off=metrics.lognormal_fit(f))
    assert row["fit"]["ks"] < row["fit_noise_off"]["ks"] and row["fit_noise_off"]["ks"] > KS_GOOD
    assert "not log-normal" in noise_off_prior(row)

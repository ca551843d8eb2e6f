"""Network structures of Table II and the MLP of Fig. 3a."""
import pytest
import torch
from torch import nn

from ibcore.layers import GaussianDropout, InformationDropout, LogNormalDropout, bottlenecks
from ibcore.models import MLP, AllCNN32, AllCNN96


@pytest.mark.parametrize("dropout, kind, count", [
    ("information", InformationDropout, 3), ("lognormal", LogNormalDropout, 3),
    ("gaussian", GaussianDropout, 3), ("binary", nn.Dropout, 3), ("none", nn.Dropout, 0)])
def test_mlp_places_one_dropout_per_hidden_layer(dropout, kind, count):
    model = MLP([16, 16, 16], dropout)
    assert sum(isinstance(m, kind) for m in model.modules()) == count
    assert model(torch.rand(5, 1, 28, 28)).shape == (5, 10)


def test_all_cnn_32_has_two_information_layers_halving_resolution():
    model = AllCNN32(filter_fraction=0.25, dropout="information")
    layers = bottlenecks(model)
    assert len(layers) == 2
    sizes = []
    for layer in layers:
        layer.register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[1:])))
    assert model.train()(torch.rand(4, 3, 32, 32)).shape == (4, 10)
    assert sizes == [(24, 16, 16), (48, 8, 8)]  # 25 % of 96 and 192 filters
    assert all(l.max_alpha == 0.7 for l in layers)


def test_all_cnn_96_kl_map_sizes_and_max_alpha():
    model = AllCNN96(filter_fraction=0.25, dropout="information")
    layers = bottlenecks(model)
    sizes = []
    for layer in layers:
        layer.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1]))
    model.eval()(torch.rand(2, 1, 96, 96))
    assert sizes == [48, 24, 12, 6]
    assert all(l.max_alpha == 1.0 for l in layers)


def test_batchnorm_precedes_every_activation():
    model = AllCNN32(filter_fraction=0.1, dropout="binary", activation="softplus")
    modules = list(model.features)
    for i, m in enumerate(modules):
        if isinstance(m, nn.Softplus):
            assert isinstance(modules[i - 1], nn.BatchNorm2d)
    assert any(isinstance(m, nn.Softplus) for m in modules)


@pytest.mark.parametrize("factory, kwargs, message", [
    (MLP, dict(dropout="spike"), "unknown dropout 'spike'; allowed: none, binary, lognormal, information, gaussian"),
    (MLP, dict(activation="gelu"), "unknown activation 'gelu'"),
    (MLP, dict(hidden=[]), "non-empty list of positive widths"),
    (AllCNN32, dict(filter_fraction=0), r"filter_fraction must be in \(0, 1\]"),
    (AllCNN32, dict(dropout="information", max_alpha=0), "max_alpha must be > 0"),
])
def test_bad_model_options(factory, kwargs, message):
    with pytest.raises(ValueError, match=message):
        factory(**kwargs)


def test_wrong_input_shapes():
    with pytest.raises(ValueError, match="expects a 4-D input"):
        AllCNN32(filter_fraction=0.1)(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match=r"expects \[batch, 3, 32, 32\]"):
        AllCNN32(filter_fraction=0.1)(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="784 pixels"):
        MLP([4])(torch.rand(2, 10))

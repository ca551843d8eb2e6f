"""KL maps of Information Dropout layers and the localisation score built on them."""
import pytest
import torch

from ibcore.layers import bottlenecks
from ibcore.metrics import kl_maps, localisation
from ibcore.models import MLP, AllCNN96


def test_maps_have_the_papers_sizes_and_sum_to_the_layer_kl():
    model = AllCNN96(filter_fraction=0.25, dropout="information")
    x = torch.rand(5, 1, 96, 96)
    maps = kl_maps(model, x, batch_size=2)
    assert [tuple(m.shape) for m in maps] == [(5, 48, 48), (5, 24, 24), (5, 12, 12), (5, 6, 6)]
    assert all((m >= 0).all() for m in maps)
    model(x)  # eval mode: .kl of the last forward, for all five images
    for m, layer in zip(maps, bottlenecks(model)):
        assert torch.allclose(m.flatten(1).sum(1), layer.kl, rtol=1e-5)


def test_model_without_information_dropout():
    with pytest.raises(ValueError, match="no InformationDropout layer"):
        kl_maps(MLP([4], "binary"), torch.rand(2, 784))


BOX = torch.tensor([[0, 0, 48, 96]])  # the left half of a 96×96 image


def test_all_mass_inside_the_box():
    kl_map = torch.zeros(1, 12, 12)
    kl_map[0, 3, 2] = 5.0  # a cell centred at x = 20, y = 28: inside
    score = localisation(kl_map, BOX, 96)
    assert score == {"argmax_in_box": 1.0, "argmax_chance": 0.5, "mass_ratio": pytest.approx(2.0)}


def test_uniform_map_scores_chance_and_outside_scores_zero():
    assert localisation(torch.ones(1, 6, 6), BOX, 96)["mass_ratio"] == pytest.approx(1.0)
    outside = torch.zeros(1, 6, 6)
    outside[0, 2, 5] = 1.0
    score = localisation(outside, BOX, 96)
    assert score["argmax_in_box"] == 0.0 and score["mass_ratio"] == 0.0


def test_scores_average_over_images():
    maps = torch.zeros(2, 4, 4)
    maps[0, 0, 0] = 1.0  # inside the left half
    maps[1, 0, 3] = 1.0  # outside
    score = localisation(maps, BOX.repeat(2, 1), 96)
    assert score["argmax_in_box"] == 0.5 and score["mass_ratio"] == pytest.approx(1.0)


@pytest.mark.parametrize("kl_map, boxes, message", [
    (-torch.ones(1, 4, 4), BOX, "non-negative"),
    (torch.ones(4, 4), BOX, r"need kl_map \[N, H, W\]"),
    (torch.ones(2, 4, 4), BOX, r"boxes \[N, 4\]"),
])
def test_bad_input(kl_map, boxes, message):
    with pytest.raises(ValueError, match=message):
        localisation(kl_map, boxes, 96)

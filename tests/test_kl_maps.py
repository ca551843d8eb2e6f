"""KL maps of Information Dropout layers and the localisation score built on them."""
import pytest
import torch

from ibcore.layers import bottlenecks
from ibcore.metrics import ink_localisation, ink_maps, kl_maps, localisation, rf_centres
from ibcore.models import MLP, AllCNN96


def test_maps_have_the_papers_sizes_and_sum_to_the_layer_kl():
    model = AllCNN96(filter_fraction=0.25, dropout="information")
    x = torch.rand(5, 1, 96, 96)
    maps = kl_maps(model, x, batch_size=2)
    assert [tuple(m.shape) for m in maps] == [(5, 48, 48), (5, 24, 24), (5, 12, 12), (5, 6, 6)]
    assert all((m >= 0).all() for m in maps)
    assert model.training  # kl_maps restores the mode it found
    model.eval()
    model(x)  # eval mode: .kl of the last forward, for all five images
    for m, layer in zip(maps, bottlenecks(model)):
        assert torch.allclose(m.flatten(1).sum(1), layer.kl, rtol=1e-5)


def test_model_without_information_dropout():
    with pytest.raises(ValueError, match="no InformationDropout layer"):
        kl_maps(MLP([4], "binary"), torch.rand(2, 784))


BOX = torch.tensor([[0, 0, 48, 96]])  # the left half of a 96×96 image


def test_all_mass_inside_the_box():
    kl_map = torch.zeros(1, 12, 12)
    kl_map[0, 3, 2] = 5.0  # a cell whose receptive field is centred at x = 16.5, y = 24.5: inside
    score = localisation(kl_map, BOX, 96)
    assert score["argmax_in_box"] == 1.0 and score["argmax_chance"] == 0.5
    assert score["mass_ratio"] == pytest.approx(2.0) and score["mass_images"] == 1
    # 8 px margin: of the centres 0.5, 8.5, ..., 88.5 the first and the last go; 5 of the 10 left are inside
    assert score["argmax_in_box_margin"] == 1.0 and score["argmax_chance_margin"] == 0.5
    assert score["mass_ratio_margin"] == pytest.approx(2.0) and score["margin"] == 8.0


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
    (torch.full((1, 4, 4), -1e-7), BOX, "non-negative"),  # float noise is the caller's to clamp
    (torch.full((1, 4, 4), float("nan")), BOX, "finite"),
    (torch.ones(4, 4), BOX, r"need kl_map \[N, H, W\]"),
    (torch.ones(2, 4, 4), BOX, r"boxes \[N, 4\]"),
    (torch.ones(1, 4, 4), torch.tensor([[10, 0, 10, 96]]), "x0 < x1"),
    (torch.ones(1, 4, 4), torch.tensor([[0, 0, 97, 96]]), "x0 < x1"),
    (torch.ones(1, 5, 5), BOX, "must tile"),
])
def test_bad_input(kl_map, boxes, message):
    with pytest.raises(ValueError, match=message):
        localisation(kl_map, boxes, 96)


def test_bad_margin():
    with pytest.raises(ValueError, match="leaves no cell"):
        localisation(torch.ones(1, 6, 6), BOX, 96, margin=49)
    with pytest.raises(ValueError, match="margin must be"):
        localisation(torch.ones(1, 6, 6), BOX, 96, margin=-1)


# --- receptive-field centres ------------------------------------------------------------------

@pytest.mark.parametrize("size, offset", [(48, 0.5), (24, 1.5), (12, 3.5), (6, 7.5)])
def test_rf_centres_are_up_left_of_the_naive_centres(size, offset):
    jump = 96 // size
    centres = rf_centres(size, 96)
    assert centres.tolist() == [0.5 + i * jump for i in range(size)]
    naive = (torch.arange(size, dtype=torch.float64) + 0.5) * jump
    assert torch.allclose(naive - centres, torch.full((size,), offset, dtype=torch.float64))


def test_rf_centre_matches_the_conv_stack():
    """A 3×3/stride-2/padding-1 conv stack: output cell i sees input pixel i·jump at its kernel centre."""
    convs = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, 3, 2, 1, bias=False) for _ in range(4)])
    for conv in convs:
        torch.nn.init.zeros_(conv.weight)
        conv.weight.data[0, 0, 1, 1] = 1.0  # the centre tap only
    x = torch.zeros(1, 1, 96, 96)
    x[0, 0, 32, 48] = 1.0  # pixel (row 32, col 48) = RF centre (32.5, 48.5) of layer-4 cell (2, 3)
    out = convs(x)[0, 0]
    assert out.shape == (6, 6) and out[2, 3] == 1.0 and out.sum() == 1.0
    assert rf_centres(6, 96)[[2, 3]].tolist() == [32.5, 48.5]


def test_one_hot_at_the_rf_centre_of_a_cell_in_the_box_scores_one():
    kl_map = torch.zeros(1, 6, 6)
    kl_map[0, 2, 3] = 1.0  # RF centre (x, y) = (48.5, 32.5); naive centre (56, 40)
    tight = torch.tensor([[48, 32, 49, 33]])  # the one pixel under the RF centre
    score = localisation(kl_map, tight, 96)
    assert score["argmax_in_box"] == 1.0 and score["argmax_in_box_margin"] == 1.0
    assert score["argmax_chance"] == pytest.approx(1 / 36) and score["mass_ratio"] == pytest.approx(36.0)
    naive = torch.tensor([[52, 36, 60, 44]])  # holds the naive centre, not the RF centre
    assert localisation(kl_map, naive, 96)["argmax_in_box"] == 0.0


# --- ties and margins -------------------------------------------------------------------------

@pytest.mark.parametrize("size", [48, 24, 12, 6])
def test_flat_map_scores_chance_wherever_the_box_is(size):
    flat = torch.full((1, size, size), 0.3)
    corners = [[0, 0, 20, 20], [76, 76, 96, 96], [0, 0, 32, 32], [64, 64, 96, 96], [30, 40, 50, 60]]
    scores = [localisation(flat, torch.tensor([box]), 96) for box in corners]
    for score in scores:
        assert score["argmax_in_box"] == pytest.approx(score["argmax_chance"])
        assert score["argmax_in_box_margin"] == pytest.approx(score["argmax_chance_margin"])
        assert score["argmax_in_box"] < 0.5  # not "100 %" because the first cell is top-left
    # two corner boxes holding as many cell centres (the grid tiles 0–32 and 64–96 alike) score the same
    assert scores[2]["argmax_in_box"] == pytest.approx(scores[3]["argmax_in_box"]) == pytest.approx(1 / 9)
    for zero in (torch.zeros(1, size, size), torch.full((1, size, size), 1e-30)):
        # all-zero: every cell is tied; tiny values: tied within the relative tolerance
        score = localisation(zero, torch.tensor([corners[0]]), 96)
        assert score["argmax_in_box"] == pytest.approx(score["argmax_chance"])


def test_ties_count_fractionally_by_hand():
    # 4×4 map on a 96 input: RF centres 0.5, 24.5, 48.5, 72.5; the box holds columns 0–1, rows 0–3
    kl_map = torch.zeros(2, 4, 4)
    kl_map[0, 0, 0] = kl_map[0, 1, 1] = kl_map[0, 2, 3] = 2.0  # 2 of 3 maxima inside
    kl_map[0, 3, 3] = 2.0 * (1 - 1e-8)  # within the relative tolerance: a fourth tie, outside
    kl_map[1, 0, 0] = 1.0
    kl_map[1, 3, 3] = 1.0 - 1e-3  # clearly below the max: not a tie
    score = localisation(kl_map, BOX.repeat(2, 1), 96, margin=0)
    assert score["argmax_in_box"] == pytest.approx((2 / 4 + 1) / 2)
    assert score["argmax_chance"] == 0.5
    # mass: image 0: 4 / (6 + 2 - 2e-8) inside; image 1: 1 / (2 - 1e-3); each ÷ area share 0.5
    expected = (2 * 4 / (8 - 2e-8) + 2 * 1 / (2 - 1e-3)) / 2
    assert score["mass_ratio"] == pytest.approx(expected)


def test_margin_drops_border_cells_by_hand():
    # 6×6 map, centres 0.5, 16.5, ..., 80.5; margin 8 drops row 0 and column 0 (centre 0.5), keeps 80.5
    kl_map = torch.zeros(1, 6, 6)
    kl_map[0, 0, 0] = 10.0  # the border peak, inside the box
    kl_map[0, 3, 4] = 5.0  # the interior peak (x = 64.5), outside the box
    kl_map[0, 2, 1] = 5.0  # x = 16.5: inside, tied with the interior peak
    box = torch.tensor([[0, 0, 40, 96]])  # columns with centre < 40: 0, 1, 2
    score = localisation(kl_map, box, 96)
    assert score["argmax_in_box"] == 1.0 and score["argmax_chance"] == 0.5
    assert score["mass_ratio"] == pytest.approx((15 / 20) / 0.5)
    # with the margin: a 5×5 grid, columns 1, 2 inside (2 of 5); the tie between 5.0 and 5.0 halves it
    assert score["argmax_in_box_margin"] == 0.5 and score["argmax_chance_margin"] == pytest.approx(2 / 5)
    assert score["mass_ratio_margin"] == pytest.approx((5 / 10) / (2 / 5))
    assert localisation(kl_map, box, 96, margin=0)["argmax_in_box_margin"] == 1.0


# --- the ink baseline ----------------------------------------------------------------------------

def test_ink_maps_pool_around_the_rf_centres():
    x = torch.zeros(1, 1, 96, 96)
    x[0, 0, 32, 48] = 1.0  # the RF-centre pixel of layer-4 cell (2, 3)
    maps = ink_maps(x, [48, 24, 12, 6])
    assert [tuple(m.shape) for m in maps] == [(1, 48, 48), (1, 24, 24), (1, 12, 12), (1, 6, 6)]
    for m, size in zip(maps, [48, 24, 12, 6]):
        jump = 96 // size
        assert m[0, 32 // jump, 48 // jump] == m.max() > 0  # the cell centred on that pixel holds it
    assert maps[3][0, 2, 3] == pytest.approx(1 / 17 ** 2)  # a 17×17 window for a stride of 16
    flat = ink_maps(torch.ones(2, 96, 96), [6])[0]
    assert torch.allclose(flat, torch.ones(2, 6, 6))  # windows cut at the border, not zero-padded


def test_bright_square_in_the_box_gives_a_high_ink_score():
    generator = torch.Generator().manual_seed(0)
    x = 0.05 * torch.rand(3, 1, 96, 96, generator=generator)  # faint clutter everywhere
    boxes = torch.tensor([[30, 40, 50, 60], [10, 60, 30, 80], [60, 20, 80, 40]])
    for image, (x0, y0, x1, y1) in zip(x, boxes.tolist()):
        image[0, y0 + 2:y1 - 2, x0 + 2:x1 - 2] = 1.0  # the digit: a bright square inside its box
    scores = ink_localisation(x, boxes, [48, 24, 12])
    for score in scores:
        assert score["argmax_in_box"] == 1.0 and score["argmax_chance"] < 0.1
        assert score["mass_ratio"] > 5 and score["argmax_in_box_margin"] == 1.0


def test_ink_maps_bad_input():
    with pytest.raises(ValueError, match="square images"):
        ink_maps(torch.ones(2, 3, 96, 96), [6])
    with pytest.raises(ValueError, match="must tile"):
        ink_maps(torch.ones(2, 1, 96, 96), [7])
    with pytest.raises(ValueError, match="non-negative"):
        ink_maps(-torch.ones(2, 1, 96, 96), [6])

import pytest
import torch

from lrsci.config import ModelConfig
from lrsci.models import ActivationNoise, MLP, SmallCNN, WideResNet, build_model, set_activation_noise


@pytest.mark.parametrize("depth, width, channels, size", [(10, 1, 3, 32), (16, 2, 6, 8), (16, 1, 1, 28)])
def test_wrn_shapes_and_blocks(depth, width, channels, size):
    net = WideResNet(depth, width, channels, num_classes=7)
    assert net(torch.randn(2, channels, size, size)).shape == (2, 7)
    n_blocks = sum(1 for m in net.modules() if type(m).__name__ == "BasicBlock")
    assert n_blocks == 3 * (depth - 4) // 6


def test_wrn_rejects_bad_depth():
    with pytest.raises(ValueError, match="6n \\+ 4"):
        WideResNet(depth=15)


def test_noise_sites_sit_before_every_relu():
    net = WideResNet(10, 1, 3)
    mods = list(net.modules())
    relus = [i for i, m in enumerate(mods) if isinstance(m, torch.nn.ReLU)]
    assert relus and all(isinstance(mods[i - 1], ActivationNoise) for i in relus)


def test_noise_only_in_training_and_shared_over_batch_and_channels():
    site = ActivationNoise(0.5)
    x = torch.zeros(4, 3, 5, 5)
    site.eval()
    assert torch.equal(site(x), x)
    site.train()
    torch.manual_seed(0)
    y = site(x)
    assert y.abs().sum() > 0
    assert torch.equal(y[0, 0], y[3, 2])  # one H×W map for every example and channel


def test_set_activation_noise_anneals_every_site():
    net = SmallCNN(1, 10, 4, noise_std=0.4)
    set_activation_noise(net, 4e-6)
    assert {m.std for m in net.modules() if isinstance(m, ActivationNoise)} == {4e-6}


@pytest.mark.parametrize("name, shape", [("wrn", (3, 16, 16)), ("small_cnn", (1, 28, 28)), ("mlp", (6, 4, 4))])
def test_build_model(name, shape):
    net = build_model(ModelConfig(name, depth=10, width=1, hidden=32), shape, 10)
    assert net(torch.randn(2, *shape)).shape == (2, 10)


def test_mlp_flattens_any_shape():
    assert MLP(96, 10, 16)(torch.randn(3, 6, 4, 4)).shape == (3, 10)


def _noise_stds(net):
    return [m.std for m in net.modules() if isinstance(m, ActivationNoise)]


MODELS = [("wrn", (3, 8, 8), 10), ("small_cnn", (1, 8, 8), 10), ("mlp", (6, 2, 2), 10), ("two_layer", (5,), 2)]


@pytest.mark.parametrize("name, shape, k", MODELS)
def test_build_model_puts_the_configured_noise_on_every_site(name, shape, k):
    net = build_model(ModelConfig(name, depth=10, width=1, hidden=8, act_noise_std=0.3), shape, k)
    stds = _noise_stds(net)
    assert stds and set(stds) == {0.3}


@pytest.mark.parametrize("name, shape, k", MODELS)
def test_init_follows_the_torch_seed(name, shape, k):
    def params(seed):
        torch.manual_seed(seed)
        return [p.detach() for p in build_model(ModelConfig(name, depth=10, width=1, hidden=8), shape, k).parameters()]

    one, again, two = params(1), params(1), params(2)
    assert all(torch.equal(a, b) for a, b in zip(one, again))
    drawn = [(a, b) for a, b in zip(one, two) if a.unique().numel() > 1]  # not the constant BN init
    assert drawn and all(not torch.equal(a, b) for a, b in drawn)  # every random tensor follows the seed


@pytest.mark.parametrize("name", ["wrn", "small_cnn", "mlp"])
def test_build_model_passes_dropout(name):
    net = build_model(ModelConfig(name, depth=10, width=1, hidden=8, dropout=0.3), (3, 8, 8), 10)
    drops = [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)]
    assert drops and set(drops) == {0.3}
    if name == "wrn":
        assert len(drops) == 3  # one inside every basic block of WRN-10


def test_wrn_widths_strides_and_final_preactivation():
    net = WideResNet(16, 2, 3, num_classes=10)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert {m.out_channels for m in convs} == {16, 32, 64, 128}
    assert net.fc.in_features == 128
    *body, final, pool, flat = net.features
    assert isinstance(final[0], torch.nn.BatchNorm2d) and final[0].num_features == 128
    net.eval()
    assert torch.nn.Sequential(*body)(torch.randn(2, 3, 32, 32)).shape == (2, 128, 8, 8)  # strides 1, 2, 2


def test_wrn_block_is_preactivation_with_its_projection_on_the_activated_input():
    from lrsci.models.wrn import BasicBlock

    block = BasicBlock(4, 8, 2, 0.0, 0.0).eval()
    x = torch.randn(2, 4, 8, 8)
    o = block.pre(x)
    assert torch.allclose(block(x), block.shortcut(o) + block.conv2(block.mid(block.conv1(o))), atol=1e-6)
    same = BasicBlock(8, 8, 1, 0.0, 0.0).eval()
    y = torch.randn(2, 8, 4, 4)
    assert same.shortcut is None
    assert torch.allclose(same(y), y + same.conv2(same.mid(same.conv1(same.pre(y)))), atol=1e-6)


def test_wrn_init_is_kaiming_fan_out_with_zero_linear_bias():
    torch.manual_seed(0)
    net = WideResNet(10, 4, 3)
    stem = net.features[0]  # 3 -> 16, 3x3: fan_out 144, fan_in 27
    assert float(stem.weight.detach().std()) == pytest.approx((2 / (16 * 9)) ** 0.5, rel=0.15)
    assert torch.equal(net.fc.bias, torch.zeros(10))


def test_small_cnn_doubles_channels_at_each_stride():
    net = SmallCNN(1, 10, 16).eval()
    assert sum(p.numel() for p in net.parameters()) == pytest.approx(25_000, rel=0.1)
    conv_body = net.features[:-2]  # before pooling
    assert conv_body(torch.randn(2, 1, 28, 28)).shape == (2, 64, 7, 7)
    built = build_model(ModelConfig("small_cnn", width=3), (1, 28, 28), 10)
    assert built.features[0].out_channels == 12  # base = 4 x width


def test_mlp_has_two_hidden_layers_of_the_configured_width():
    net = build_model(ModelConfig("mlp", hidden=16), (6, 2, 2), 10)
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(24, 16), (16, 16), (16, 10)]


def test_noise_has_the_set_std_and_vector_noise_is_shared_over_the_batch():
    site = ActivationNoise(0.5).train()
    torch.manual_seed(0)
    assert float(site(torch.zeros(1, 1, 200, 200)).std()) == pytest.approx(0.5, rel=0.05)
    v = site(torch.zeros(4, 6))
    assert torch.equal(v[0], v[3]) and v[0].abs().sum() > 0  # one value per feature for the whole batch


def test_two_layer_margin_is_a_relu_net_with_noise_before_the_relu():
    from lrsci.models.two_layer import TwoLayer

    torch.manual_seed(0)
    net = build_model(ModelConfig("two_layer", hidden=8), (5,), 2)
    assert net.hidden.out_features == 8
    x = torch.randn(16, 5)
    assert torch.allclose(net.margin(x), net.out(torch.relu(net.hidden(x))).squeeze(1), atol=1e-6)
    noisy = TwoLayer(5, 8, noise_std=1.0)
    noisy.load_state_dict(net.state_dict())
    assert not torch.allclose(noisy.train().margin(x), noisy.eval().margin(x))


@pytest.mark.parametrize("name", ["small_cnn", "wrn"])
def test_a_conv_net_on_vector_data_is_refused_by_name_not_in_conv2d(name):
    with pytest.raises(ValueError, match=rf"model.name='{name}' is a convolutional net.*\(1620,\)"):
        build_model(ModelConfig(name), (1620,), 2)

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

"""The torch module a generated model uses for SqueezeExcite. archspec never imports this
file: the generator copies the class into the generated source, which then needs only torch."""

import torch
from torch import nn


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation on (N, C, *spatial): the channel means, Linear(C, units) and
    ReLU, Linear(units, C) and sigmoid, the input scaled channel by channel."""

    def __init__(self, channels, units):
        super().__init__()
        self.squeeze = nn.Linear(channels, units)
        self.excite = nn.Linear(units, channels)

    def forward(self, x):
        means = x.mean(dim=tuple(range(2, x.dim())))
        gates = torch.sigmoid(self.excite(torch.relu(self.squeeze(means))))
        return x * gates.reshape(gates.shape + (1,) * (x.dim() - 2))

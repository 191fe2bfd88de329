"""Helpers that generated PyTorch models need for the transformer layers, copied into the
generated file as torch_runtime.py's are (never imported by archspec itself).

Every tensor of a generated model is channels-first, sequences too: (N, features, length).
torch's own transformer layers take (N, length, features), so these helpers move the features
last and back around them; their parameters keep torch's names, so torchvision's state_dicts
load as they are.
"""

from torch import nn
from torch.nn import functional as F


class AxisLayerNorm(nn.LayerNorm):
    """keras.layers.LayerNormalization over ``dims`` where they are not the trailing dims
    nn.LayerNorm normalizes (the channels of a channels-first tensor, as torchvision's
    LayerNorm2d), or with a shift and no scale: the dims are moved last and back. ``weight``
    is gamma and ``bias`` beta, each optional."""

    def __init__(self, normalized_shape, eps=1e-5, dims=(1,), center=True, scale=True):
        super().__init__(normalized_shape, eps, elementwise_affine=center or scale, bias=center)
        if center and not scale:
            self.weight = None
        self.dims = tuple(dims)

    def forward(self, x):
        last = tuple(range(-len(self.dims), 0))
        return super().forward(x.movedim(self.dims, last)).movedim(last, self.dims)


class PackedAttention(nn.MultiheadAttention):
    """keras.layers.MultiHeadAttention as torch's own layer, with query, key and value packed
    in ``in_proj_weight`` (as torchvision's ViT holds them), on channels-first sequences:
    called with the query, then optionally the value and the key (Keras' order; the key
    defaults to the value, the value to the query)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True):
        super().__init__(embed_dim, num_heads, dropout=dropout, bias=bias, batch_first=True)

    def forward(self, query, value=None, key=None):
        query = query.mT
        value = query if value is None else value.mT
        key = value if key is None else key.mT
        return super().forward(query, key, value, need_weights=False)[0].mT


class KerasAttention(nn.Module):
    """keras.layers.MultiHeadAttention where nn.MultiheadAttention cannot hold it (heads whose
    sizes do not add up to the query's features, an output size of its own, a key or value of
    other features): one nn.Linear per projection, named as Keras names them, and scaled
    dot-product attention between the heads. Called as PackedAttention is."""

    def __init__(self, num_heads, key_dim, value_dim, query, key, value, output, dropout=0.0,
                 bias=True):
        super().__init__()
        self.num_heads, self.dropout = num_heads, dropout
        self.query = nn.Linear(query, num_heads * key_dim, bias=bias)
        self.key = nn.Linear(key, num_heads * key_dim, bias=bias)
        self.value = nn.Linear(value, num_heads * value_dim, bias=bias)
        self.attention_output = nn.Linear(num_heads * value_dim, output, bias=bias)

    def _heads(self, projection, x):
        """(N, features, length) → (N, heads, length, size)."""
        return projection(x.mT).unflatten(-1, (self.num_heads, -1)).transpose(1, 2)

    def forward(self, query, value=None, key=None):
        value = query if value is None else value
        key = value if key is None else key
        attended = F.scaled_dot_product_attention(
            self._heads(self.query, query), self._heads(self.key, key),
            self._heads(self.value, value), dropout_p=self.dropout if self.training else 0.0)
        return self.attention_output(attended.transpose(1, 2).flatten(2)).mT


class IndexEmbedding(nn.Embedding):
    """keras.layers.Embedding: indices of any dtype (cast to integers, truncated, as Keras
    casts them), vectors returned channels-first: (N, length) → (N, features, length)."""

    def forward(self, x):
        return super().forward(x.long()).movedim(-1, 1)


class Take(nn.Module):
    """One index along ``dim``, which is dropped (keras.ops.take). Taking one channel of a map
    leaves its last spatial dim as the new channels: ``channels_moved`` moves it to dim 1."""

    def __init__(self, dim, index, channels_moved=False):
        super().__init__()
        self.dim, self.index, self.channels_moved = dim, index, channels_moved

    def forward(self, x):
        y = x.select(self.dim, self.index)
        return y.movedim(-1, 1) if self.channels_moved else y

    def extra_repr(self):
        return f"dim={self.dim}, index={self.index}"


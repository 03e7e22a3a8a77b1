"""The last encoder layer computed for `<s>`'s row alone, in place in a transformers XLM-R classifier.

The head reads `<s>`'s row of the last layer and nothing else, so that layer's query, attention output
and FFN for every other row are work thrown away: keys and values still come from every row, the rest
from one. At 32 x 64 that is 63 of every 64 rows of the last FFN. The replacement keeps the layer's
submodules under their names (`attention.self.query`, `intermediate.dense`, ...), so the exporter's node
names, the smoothing hooks and the outlier split see the same modules as before; its output is
[batch, 1, hidden], which the head reads as it read row 0. Exact in float arithmetic (tested).
"""

from __future__ import annotations

from crest_edge.extras import require

LAST_LAYER = "<s> row only"  # what the manifest's model.last_layer says of a graph made so


def cls_row_last_layer(model) -> None:
    """Replace `model`'s last encoder layer by one that returns `<s>`'s row only. Call it before
    registering hooks on the layer's modules (smoothing) or replacing its Linear layers (outlier split)."""
    torch = require("torch", "the <s>-row last layer")

    class ClsQuerySelfAttention(torch.nn.Module):
        def __init__(self, attention):
            super().__init__()
            self.query, self.key, self.value = attention.query, attention.key, attention.value
            self.heads, self.size = attention.num_attention_heads, attention.attention_head_size

        def forward(self, hidden, attention_mask):
            def by_head(x):  # [batch, rows, hidden] -> [batch, heads, rows, size]
                return x.reshape(x.shape[0], x.shape[1], self.heads, self.size).transpose(1, 2)

            query = by_head(self.query(hidden[:, :1]))
            key, value = by_head(self.key(hidden)), by_head(self.value(hidden))
            scores = torch.matmul(query, key.transpose(-1, -2)) * self.size**-0.5
            if attention_mask is not None:  # transformers' additive mask, [batch, 1, 1 or rows, rows]
                scores = scores + attention_mask[:, :, :1]
            context = torch.matmul(scores.softmax(-1), value)
            return context.transpose(1, 2).reshape(hidden.shape[0], 1, -1)

    class ClsRowAttention(torch.nn.Module):
        def __init__(self, attention):
            super().__init__()
            self.self, self.output = ClsQuerySelfAttention(attention.self), attention.output

        def forward(self, hidden, attention_mask):
            return self.output(self.self(hidden, attention_mask), hidden[:, :1])

    class ClsRowLayer(torch.nn.Module):
        # Each submodule is called from its parent, as in transformers' layer: the exporter names nodes
        # by that call path (layer.N/attention/self/query/MatMul), which the quantization recipes match.
        def __init__(self, layer):
            super().__init__()
            self.attention, self.intermediate, self.output = (
                ClsRowAttention(layer.attention),
                layer.intermediate,
                layer.output,
            )

        def forward(self, hidden_states, attention_mask=None, *_args, **_kwargs):
            mixed = self.attention(hidden_states, attention_mask)
            return self.output(self.intermediate(mixed), mixed)

    layers = model.roberta.encoder.layer
    layers[len(layers) - 1] = ClsRowLayer(layers[-1])

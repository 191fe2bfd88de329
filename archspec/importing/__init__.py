"""``archspec import``: existing Keras and PyTorch models turned into readable specs.

Each reader (Keras, torch.fx) turns a framework model into a ``FlatModel`` in archspec's
vocabulary; ``fold`` finds the repeated structure in it and writes the spec document."""

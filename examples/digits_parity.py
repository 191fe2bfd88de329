"""The course's "ANN vs CNN" comparison, trained in Keras and in PyTorch from one spec each.

Both frameworks start from the same weights (Keras' initial weights moved into torch with
archspec.transfer_weights), see the same batches in the same order and take the same plain SGD
steps, so they end up with the same accuracy. Their weights agree to ~1e-7 after a short
run; over many epochs float32 rounding differences (1e-7 per step) are amplified wherever a
ReLU flips, so the "max weight difference" column grows (~5e-2 after 15 epochs of the CNN) while
the accuracies stay equal. The data is
scikit-learn's bundled 8x8 digits, upscaled to the course's 28x28 (nothing is downloaded).

    python examples/digits_parity.py            # 15 epochs, a minute or two on a laptop
    python examples/digits_parity.py --quick    # 1 epoch on 256 images (the test runs this)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from rich.table import Table  # noqa: E402

import archspec  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"
EPSILON = 1e-7  # Keras clips probabilities before the log; torch must do the same


def digits_28x28(limit: int | None):
    from sklearn.datasets import load_digits
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    images = np.kron(images, np.ones((3, 3), np.float32))  # 8x8 → 24x24
    images = np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., None]  # → 28x28x1
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = images[order], labels[order]
    split = int(0.8 * len(labels))
    train, test = (images[:split], labels[:split]), (images[split:], labels[split:])
    if limit:
        train = (train[0][:limit], train[1][:limit])
    return train, test


def as_input(images: np.ndarray, graph) -> np.ndarray:
    """The spec's input: the image as it is (CNN) or flattened (the ANN's 784 features)."""
    return images.reshape((len(images),) + tuple(graph.input_shape))


def train_pair(spec: Path, train, test, epochs: int, batch: int, lr: float, progress):
    import keras
    import torch

    graph = archspec.analyze(spec)
    keras.utils.set_random_seed(1)
    k_model = archspec.compile(spec, backend="keras")
    t_model = archspec.compile(spec, backend="torch")
    archspec.transfer_weights(k_model, t_model, graph)  # the same starting point

    k_model.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy")
    t_optimizer = torch.optim.SGD(t_model.parameters(), lr=lr)
    x, y = as_input(train[0], graph), train[1]
    steps = epochs * -(-len(y) // batch)
    task = progress.add_task(f"{graph.name}: Keras and PyTorch", total=steps)
    for epoch in range(epochs):
        order = np.random.default_rng(100 + epoch).permutation(len(y))
        for start in range(0, len(y), batch):
            idx = order[start:start + batch]
            k_model.train_on_batch(x[idx], y[idx])
            t_model.train()
            probs = t_model(_torch_input(x[idx], torch))
            loss = -torch.log(probs.clamp(EPSILON, 1 - EPSILON)).gather(
                1, torch.from_numpy(y[idx])[:, None]).mean()
            t_optimizer.zero_grad()
            loss.backward()
            t_optimizer.step()
            progress.advance(task)

    x_test, y_test = as_input(test[0], graph), test[1]
    k_pred = np.asarray(k_model.predict(x_test, verbose=0)).argmax(1)
    t_model.eval()
    with torch.no_grad():
        t_pred = t_model(_torch_input(x_test, torch)).numpy().argmax(1)
    k_weights = archspec.get_weights(k_model, graph)
    t_weights = archspec.get_weights(t_model, graph)
    drift = max(float(np.abs(k_weights[n][w] - t_weights[n][w]).max())
                for n in k_weights for w in k_weights[n])
    params = sum(n.meta["trainable"] for n in graph.live())
    return {"name": graph.name, "params": params, "keras": float((k_pred == y_test).mean()),
            "torch": float((t_pred == y_test).mean()), "drift": drift}


def _torch_input(x: np.ndarray, torch):
    t = torch.from_numpy(np.ascontiguousarray(x))
    return t.permute(0, 3, 1, 2).contiguous() if t.dim() == 4 else t


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="1 epoch on 256 images")
    args = parser.parse_args(argv)
    epochs, limit = (1, 256) if args.quick else (args.epochs, None)
    train, test = digits_28x28(limit)
    console = Console()
    results = []
    with Progress(console=console, transient=True) as progress:
        for name in ("mnist_ann", "mnist_cnn"):
            results.append(train_pair(SPECS / f"{name}.yaml", train, test, epochs, batch=32,
                                      lr=0.05, progress=progress))
    table = Table(title=f"ANN vs CNN on scikit-learn digits ({len(train[1])} training images, "
                        f"{epochs} epoch{'s' if epochs > 1 else ''})", title_justify="left")
    for column in ("spec", "parameters", "Keras accuracy", "PyTorch accuracy",
                   "max weight difference"):
        table.add_column(column, justify="left" if column == "spec" else "right")
    for r in results:
        table.add_row(r["name"], f"{r['params']:,}", f"{r['keras']:.3f}", f"{r['torch']:.3f}",
                      f"{r['drift']:.1e}")
    console.print(table)
    return results


if __name__ == "__main__":
    main()

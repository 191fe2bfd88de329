"""Trains a compiled Keras model under tf.distribute.MirroredStrategy over two logical CPU
devices for one epoch; run by test_keras_backend in its own process (logical devices must be
configured before TensorFlow starts)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def main(spec: str) -> None:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import archspec

    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    strategy = tf.distribute.MirroredStrategy(devices)
    with strategy.scope():
        model = archspec.compile(spec, backend="keras")
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((32,) + tuple(model.input_shape[1:]), dtype=np.float32)
    y = rng.integers(0, int(model.output_shape[-1]), 32)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    print(f"mirrored ok on {strategy.num_replicas_in_sync} replicas")


if __name__ == "__main__":
    main(sys.argv[1])

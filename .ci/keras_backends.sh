#!/usr/bin/env bash
# The Keras tests on Keras' torch and JAX backends, in the environment .ci/run made plus jax and
# jaxlib (CPU wheels), after tests/test_keras_backends_agree.py, which runs a zoo on the three
# backends side by side and compares their outputs. .ci/run's main suite covers TensorFlow. Here the random-spec tests draw fewer examples, and the
# 224x224 zoo networks, keras.applications, the course models and the training example are left
# out: they repeat layers the layer table, the random specs and the small zoo specs already run
# on this backend, and JAX compiles every new shape (measured: 1 min torch, 3 min JAX, on two
# cores shared with other work).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv/bin/python -c "import jax" 2>/dev/null; then
    echo "keras_backends.sh: jax is not installed in .venv (pip install jax jaxlib)" >&2
    exit 1
fi
export ARCHSPEC_KERAS_EXAMPLES="${ARCHSPEC_KERAS_EXAMPLES:-10}"
export TF_CPP_MIN_LOG_LEVEL=3
echo "== the three Keras backends side by side"
ARCHSPEC_CROSS_BACKEND=1 .venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/test_keras_backends_agree.py
large="resnet34 or resnet50 or resnet101 or resnet152 or vgg16 or vgg19 or googlenet"
large="$large or mobilenet_v2 or alexnet or inception_course or vit"
large="$large or course_models or keras_applications or digits_parity"
resnet=(--deselect "tests/test_keras_backend.py::test_zoo_compiles_to_the_analysed_model[resnet]")
for backend in torch jax; do
    echo "== KERAS_BACKEND=$backend"
    KERAS_BACKEND="$backend" .venv/bin/python -m pytest -q -p no:cacheprovider \
        -W "ignore:__array__ implementation:DeprecationWarning" -m "not reference" \
        -k "not ($large)" "${resnet[@]}" tests/test_keras_backend.py tests/test_transfer.py
done

#!/usr/bin/env bash
# The example plugin (examples/plugin/): installed into .venv as a user installs a plugin, then
# `archspec plugins` (exit 1 on a refused type or a failed load), `archspec check` of its
# example spec, its own tests (counts by hand, torch and Keras against numpy), and the main
# suite's per-type checks, which now include SqueezeExcite. Uninstalled at the end, whatever
# happened, so nothing after it depends on the plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
trap '.venv/bin/pip uninstall -y -q archspec-squeeze-excite' EXIT
# With a new enough setuptools already in .venv (constraints.txt pins it: torch pulls it in),
# build with it rather than fetch one; the example's pyproject needs setuptools >= 77.
isolation=()
if .venv/bin/python -c "import setuptools, sys; sys.exit(int(setuptools.__version__.split('.')[0]) < 77)" 2>/dev/null; then
    isolation=(--no-build-isolation)
fi
.venv/bin/pip install -q --no-deps "${isolation[@]}" -e examples/plugin
.venv/bin/archspec plugins
.venv/bin/archspec check examples/plugin/specs/se_cnn.yaml > /dev/null
(cd examples/plugin && ../../.venv/bin/python -m pytest -q -p no:cacheprovider)
.venv/bin/python -m pytest -q -p no:cacheprovider tests/test_completeness.py tests/test_layers.py \
    tests/test_plugins.py

#!/usr/bin/env bash
# The torchvision reference tests, in a second environment (.venv-tv): torchvision's wheels need
# torch 2.14.1, while .venv keeps the 2.13.0 CPU build that constraints.txt pins. Creates the
# environment when missing or when its pins changed, then runs every test marked `reference`
# that needs torchvision; with ARCHSPEC_REQUIRE_REFERENCES=1 a skipped one fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
env_dir=.venv-tv
stamp="$env_dir/.archspec-pins"
pins="$(cat constraints-torchvision.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ ! -x "$env_dir/bin/python" ]]; then
    python3 -m venv "$env_dir"
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$pins" ]]; then
    "$env_dir/bin/pip" install -q --upgrade pip
    "$env_dir/bin/pip" install -q -c constraints-torchvision.txt -e . \
        torch torchvision numpy pytest keras tensorflow-cpu
    echo "$pins" > "$stamp"
fi
ARCHSPEC_REQUIRE_REFERENCES=1 "$env_dir/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_torchvision.py "$@"

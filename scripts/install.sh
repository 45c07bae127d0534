#!/usr/bin/env bash
# Install everything mnist_app needs into ./.venv (idempotent; fast when already done).
#   bash scripts/install.sh          # the app
#   bash scripts/install.sh --dev    # plus the test tools and Chromium for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
requirements=requirements.txt
[ "${1:-}" = "--dev" ] && requirements=requirements-dev.txt
# torch>=2.14 from PyPI on purpose: an older CPU wheel on disk breaks torchvision here.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
# The project itself, editable: `import mnist_app` and the `mnist-app` command work from
# anywhere (benchmarks, scripts), and edits take effect without reinstalling.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

if [ "${1:-}" = "--dev" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium for the browser tests (apt-get)..."
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: Chromium not found; install it (e.g. apt-get install chromium) for the browser tests" >&2
  fi
fi

# Stroke fonts (npm) for non-digits made from Hershey's script letters and Chinese
# characters: training with --script-negatives needs them, and so do the tests and
# bench/reject.py --stroke-fonts.
if [ ! -d data/stroke_fonts/hanzi-writer-data ]; then
  if command -v npm >/dev/null 2>&1; then
    bash scripts/fetch_stroke_fonts.sh || echo "warning: could not fetch the stroke fonts from npm; run scripts/fetch_stroke_fonts.sh later" >&2
  else
    echo "warning: npm not found; install Node.js and run scripts/fetch_stroke_fonts.sh to train with script-letter non-digits" >&2
  fi
fi

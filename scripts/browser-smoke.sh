#!/usr/bin/env bash
# The chat page in a real browser (headless Chromium from Debian, driven by Selenium from
# PyPI) against a real Paliadin in dev mode and the real local model: ask, watch the answer
# stream in, stop a long answer, reload and find the conversation again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run

# shellcheck source=scripts/browser-setup.sh
source scripts/browser-setup.sh

bash scripts/llama.sh start >/dev/null
backend_url="$(bash scripts/llama.sh url)"
swift build --product paliadin >/dev/null
bin="$(swift build --show-bin-path)/paliadin"
port="$(free_port)"
db="$(mktemp -d)/paliadin.sqlite"
PALIADIN_BACKEND_URL="$backend_url" PALIADIN_DEV_USER="browser@localhost" PALIADIN_DATABASE="$db" \
    PALIADIN_LISTEN="127.0.0.1:$port" "$bin" serve > .run/browser-paliadin.log 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
wait_for_url "http://127.0.0.1:$port/paliadin/widget.js"
.venv-test/bin/python scripts/browser_smoke.py "http://127.0.0.1:$port"

#!/usr/bin/env bash
# The chat page in a real browser (headless Chromium from Debian, driven by Selenium from
# PyPI) against a real Paliadin in dev mode and the real local model: ask, watch the answer
# stream in, stop a long answer, reload and find the conversation again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "[browser] installing chromium and chromium-driver from Debian"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver > .run/browser-apt.log 2>&1 ||
        { tail -n 20 .run/browser-apt.log; exit 1; }
fi
if [ ! -x .venv-test/bin/python ] || ! .venv-test/bin/python -c 'import selenium' 2>/dev/null; then
    echo "[browser] installing selenium into .venv-test"
    python3 -m venv .venv-test
    .venv-test/bin/pip install -q 'selenium==4.*'
fi

bash scripts/llama.sh start >/dev/null
backend_url="$(bash scripts/llama.sh url)"
swift build --product paliadin >/dev/null
bin="$(swift build --show-bin-path)/paliadin"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
db="$(mktemp -d)/paliadin.sqlite"
PALIADIN_BACKEND_URL="$backend_url" PALIADIN_DEV_USER="browser@localhost" PALIADIN_DATABASE="$db" \
    PALIADIN_LISTEN="127.0.0.1:$port" "$bin" serve > .run/browser-paliadin.log 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/paliadin/widget.js" 2>/dev/null && break
    sleep 0.1
done
.venv-test/bin/python scripts/browser_smoke.py "http://127.0.0.1:$port"

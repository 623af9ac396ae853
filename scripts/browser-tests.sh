#!/usr/bin/env bash
# The web UI in a real browser (headless Chromium driven by Selenium) against a real Paliadin
# in dev mode and the mock upstream: the Markdown renderer's cases, then the chat page (stream,
# thinking, reload mid-stream, network loss and a lost stream recovered, stop, error and retry,
# script injection shown as text, narrow and dark),
# the widget on a host page of another origin (its context lands in the turn's row; a host
# app's signed-in user through a session token), and the
# dashboard. Screenshots go to .run/browser/ (FAILED-*.png for a failed scenario).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
mkdir -p .run
artifacts=.run/browser
rm -rf "$artifacts" && mkdir -p "$artifacts"
# shellcheck source=scripts/browser-setup.sh
source scripts/browser-setup.sh

echo "[browser] the Markdown renderer"
.venv-test/bin/python Tests/browser/test_markdown.py

for product in paliadin paliadin-mock-upstream; do
    swift build --product "$product" > .run/browser-build.log 2>&1 || { tail -n 30 .run/browser-build.log; exit 1; }
done
bin="$(swift build --show-bin-path)"
mock_port="$(free_port)"
port="$(free_port)"
host_port="$(free_port)"
folder="$(mktemp -d)"
"$bin/paliadin-mock-upstream" --port "$mock_port" > .run/browser-mock.log 2>&1 &
mock_pid=$!
# A host app's signed-in user (widget-signed-in): a fresh key each run.
export PALIADIN_SESSION_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" UI_SIGNED_USER="signed@example.com"
PALIADIN_USER_TURNS_PER_MINUTE=0 PALIADIN_USER_CONCURRENT_TURNS=0 \
    PALIADIN_OWNERS="$UI_SIGNED_USER" PALIADIN_BACKEND_URL="http://127.0.0.1:$mock_port/v1" PALIADIN_DEV_USER="browser@localhost" \
    PALIADIN_DATABASE="$folder/paliadin.sqlite" PALIADIN_LISTEN="127.0.0.1:$port" \
    PALIADIN_EMBED_ORIGINS="http://127.0.0.1:$host_port" PALIADIN_THINKING_INTERVAL=1s "$bin/paliadin" serve > .run/browser-paliadin.log 2>&1 &
pid=$!
trap 'kill "$pid" "$mock_pid" 2>/dev/null || true; rm -rf "$folder"' EXIT
wait_for_url "http://127.0.0.1:$port/paliadin/widget.js"

echo "[browser] chat page, widget and dashboard against the mock upstream"
.venv-test/bin/python Tests/browser/test_ui.py "http://127.0.0.1:$port" "$folder/paliadin.sqlite" "$host_port" "$artifacts"

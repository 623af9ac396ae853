#!/usr/bin/env bash
# `make run`: a local model (llama.cpp server with SmolLM2) and Paliadin on SQLite, in dev mode.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

bash scripts/llama.sh start
backend_url="$(bash scripts/llama.sh url)"
echo "[run] building Paliadin"
swift build --product paliadin
export PALIADIN_BACKEND_URL="${PALIADIN_BACKEND_URL:-$backend_url}"
export PALIADIN_DEV_USER="${PALIADIN_DEV_USER:-dev@localhost}"
export PALIADIN_DATABASE="${PALIADIN_DATABASE:-./data/paliadin.sqlite}"
export PALIADIN_LISTEN="${PALIADIN_LISTEN:-127.0.0.1:8080}"
echo "[run] open http://${PALIADIN_LISTEN}/paliadin — requests from this machine act as ${PALIADIN_DEV_USER}; Ctrl-C stops Paliadin (the model server keeps running: make llama-stop)"
exec "$(swift build --show-bin-path)/paliadin" serve

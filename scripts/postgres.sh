#!/usr/bin/env bash
# A private PostgreSQL for development and the store tests: Debian's packages (installed when
# missing, without starting the system's own cluster), one cluster of our own that listens on
# 127.0.0.1 only (a free port, no unix socket), user `paliadin` trusted, database `paliadin`.
# Idempotent: safe to call repeatedly.
#
#   scripts/postgres.sh start     install if needed, create and start the cluster, print its URL
#   scripts/postgres.sh stop      stop it (fast shutdown); nothing to do when it is not running
#   scripts/postgres.sh restart   stop, then start again on the same port
#   scripts/postgres.sh url       print the URL (exit 3 when the cluster is not running)
#
# Only the URL (postgres://paliadin@127.0.0.1:PORT/paliadin) goes to stdout; progress goes to
# stderr. Everything lives in the git-ignored folder .run/postgres/ (url, port, the log and the
# cluster). PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres`
# system user, and when that user cannot reach the repo's folder the cluster lives in a
# temporary folder instead, whose path .run/postgres/cluster-path records.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$ROOT/.run/postgres"
URL_FILE="$RUN/url"
PORT_FILE="$RUN/port"
PATH_FILE="$RUN/cluster-path"
LOCK="$RUN/lock"

log() { echo "[postgres] $*" >&2; }
die() { echo "[postgres] ERROR: $*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

# Runs a PostgreSQL server program as the user that owns the cluster, from a folder it can read.
as_owner() {
    local folder="$1"
    shift
    if is_root; then
        (cd "$folder" && runuser -u postgres -- "$@")
    else
        (cd "$folder" && "$@")
    fi
}

# Serialises start/stop between concurrent callers.
take_lock() {
    mkdir -p "$RUN"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$LOCK"
        if ! flock -n 9; then
            log "another scripts/postgres.sh is busy; waiting for it..."
            flock 9
        fi
    fi
}

# The newest installed server's bin folder, or nothing.
find_bin() {
    local candidate
    candidate="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -n "$candidate" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
        echo "$candidate"
    fi
}

install_postgres() {
    local sudo_cmd=""
    is_root || sudo_cmd="sudo"
    log "installing PostgreSQL from Debian (log: .run/postgres/apt.log)"
    $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 update -qq > "$RUN/apt.log" 2>&1 ||
        { tail -n 20 "$RUN/apt.log" >&2; die "apt-get update failed"; }
    # Debian's policy-rc.d hook keeps the package from starting the system's own cluster
    # (a server we do not want): only our private one runs.
    local added_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee /usr/sbin/policy-rc.d >/dev/null
        $sudo_cmd chmod +x /usr/sbin/policy-rc.d
        added_policy=1
    fi
    local status=0
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 install -y -qq postgresql \
        >> "$RUN/apt.log" 2>&1 || status=$?
    [ "$added_policy" = 0 ] || $sudo_cmd rm -f /usr/sbin/policy-rc.d
    [ "$status" = 0 ] || { tail -n 20 "$RUN/apt.log" >&2; die "installing postgresql failed (log: .run/postgres/apt.log)"; }
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# True when PostgreSQL could listen on the port. SO_REUSEADDR as PostgreSQL sets it: the
# connections a just-stopped server closed linger (TIME_WAIT) but do not keep it from binding.
port_is_free() {
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

# The folder that holds the cluster (data/ and postgres.log), creating it when there is none.
# Prints its path.
cluster_folder() {
    if [ -f "$PATH_FILE" ]; then
        local recorded
        recorded="$(cat "$PATH_FILE")"
        if [ -d "$recorded" ]; then
            echo "$recorded"
            return
        fi
        rm -f "$PATH_FILE"
    fi
    local folder="$RUN/cluster"
    mkdir -p "$folder"
    if is_root; then
        chown postgres: "$folder"
        if ! runuser -u postgres -- test -x "$folder" || ! runuser -u postgres -- test -w "$folder"; then
            rm -rf "$folder"
            folder="$(mktemp -d -t paliadin-postgres.XXXXXX)"
            chown postgres: "$folder"
            chmod 0700 "$folder"
            echo "$folder" > "$PATH_FILE"
            log "the postgres user cannot reach the repo's folder: the cluster lives in $folder"
        fi
    fi
    echo "$folder"
}

is_running() {
    local bin="$1" folder="$2"
    [ -f "$folder/data/PG_VERSION" ] || return 1
    as_owner "$folder" "$bin/pg_ctl" -D "$folder/data" status >/dev/null 2>&1
}

url_of() { echo "postgres://paliadin@127.0.0.1:$1/paliadin"; }

cmd_start() {
    take_lock
    local bin folder port
    bin="$(find_bin)"
    if [ -z "$bin" ]; then
        install_postgres
        bin="$(find_bin)"
        [ -n "$bin" ] || die "no PostgreSQL server under /usr/lib/postgresql after the install"
    fi
    folder="$(cluster_folder)"

    if is_running "$bin" "$folder" && [ -f "$PORT_FILE" ]; then
        port="$(cat "$PORT_FILE")"
    else
        if [ ! -f "$folder/data/PG_VERSION" ]; then
            log "creating a cluster in $folder/data ($("$bin/postgres" --version))"
            rm -rf "$folder/data"
            as_owner "$folder" "$bin/initdb" -D "$folder/data" --auth=trust -U paliadin --encoding=UTF8 --locale=C \
                > "$RUN/initdb.log" 2>&1 || { tail -n 20 "$RUN/initdb.log" >&2; die "initdb failed"; }
            # Loopback TCP only: no unix socket, no other interface.
            as_owner "$folder" sh -c 'cat >> "$1"' sh "$folder/data/postgresql.conf" <<'EOF'

# Paliadin's private cluster (scripts/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 200
EOF
        fi
        port=""
        [ -f "$PORT_FILE" ] && port="$(cat "$PORT_FILE")"
        if [ -z "$port" ] || ! port_is_free "$port"; then port="$(free_port)"; fi
        echo "$port" > "$PORT_FILE"
        log "starting PostgreSQL on 127.0.0.1:$port (log: $folder/postgres.log)"
        # 9>&-: the server must not inherit (and hold forever) the lock of this script.
        as_owner "$folder" "$bin/pg_ctl" -D "$folder/data" -l "$folder/postgres.log" -w -t 60 -o "-p $port" start >&2 9>&- ||
            { tail -n 20 "$folder/postgres.log" >&2 || true; die "PostgreSQL did not start"; }
    fi

    local ready=0
    for _ in $(seq 1 100); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then ready=1; break; fi
        sleep 0.1
    done
    [ "$ready" = 1 ] || die "PostgreSQL does not answer on 127.0.0.1:$port"

    local exists
    exists="$("$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U paliadin -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'paliadin'")"
    if [ "$exists" != 1 ]; then
        log "creating database paliadin"
        "$bin/createdb" -h 127.0.0.1 -p "$port" -U paliadin paliadin
    fi
    url_of "$port" > "$URL_FILE"
    cat "$URL_FILE"
}

cmd_stop() {
    take_lock
    local bin folder
    bin="$(find_bin)"
    [ -n "$bin" ] || return 0
    if [ -f "$PATH_FILE" ]; then folder="$(cat "$PATH_FILE")"; else folder="$RUN/cluster"; fi
    if is_running "$bin" "$folder"; then
        log "stopping PostgreSQL"
        as_owner "$folder" "$bin/pg_ctl" -D "$folder/data" -m fast -w -t 60 stop >&2
    fi
}

cmd_url() {
    local bin folder
    bin="$(find_bin)"
    if [ -f "$PATH_FILE" ]; then folder="$(cat "$PATH_FILE")"; else folder="$RUN/cluster"; fi
    if [ -n "$bin" ] && [ -f "$URL_FILE" ] && is_running "$bin" "$folder"; then
        cat "$URL_FILE"
    else
        log "not running (scripts/postgres.sh start)"
        exit 3
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
        # The start takes the lock again: run the stop in a subshell so its lock is released.
        (cmd_stop)
        cmd_start
        ;;
    url) cmd_url ;;
    *)
        echo "usage: scripts/postgres.sh start|stop|restart|url" >&2
        exit 2
        ;;
esac

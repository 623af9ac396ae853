#!/usr/bin/env bash
# The CLI backend over a real SSH connection: starts a private sshd on 127.0.0.1 (Debian's
# openssh-server, installed when missing) with freshly generated host and client keys, then
# runs the `RealSSH` Swift Testing suite against it (fake agents run "remotely" on this
# machine through ssh). sshd is stopped on exit. Exits non-zero when anything fails.
#
#   bash scripts/sshd-test.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
say() { echo "[sshd-test] $*"; }
fail() { echo "[sshd-test] FAILED: $*" >&2; exit 1; }

sudo_cmd=""
[ "$(id -u)" = 0 ] || sudo_cmd="sudo"

# 1. The OpenSSH server and client, from Debian, when missing.
sshd_bin="$(command -v sshd || true)"
[ -n "$sshd_bin" ] || [ ! -x /usr/sbin/sshd ] || sshd_bin=/usr/sbin/sshd
if [ -z "$sshd_bin" ] || ! command -v ssh >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
    say "installing openssh-server and openssh-client from Debian"
    mkdir -p .run
    $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 update -qq
    # policy-rc.d-less containers: the package may try to start the system sshd; that is not ours
    # and not needed, so a failing start must not fail the install.
    # Debian's policy-rc.d hook keeps the package from starting the system-wide sshd (which
    # would listen on every interface): only our private one on 127.0.0.1 runs.
    added_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee /usr/sbin/policy-rc.d >/dev/null
        $sudo_cmd chmod +x /usr/sbin/policy-rc.d
        added_policy=1
    fi
    install_status=0
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        openssh-server openssh-client > .run/sshd-apt.log 2>&1 || install_status=$?
    [ "$added_policy" = 0 ] || $sudo_cmd rm -f /usr/sbin/policy-rc.d
    [ "$install_status" = 0 ] || { tail -n 20 .run/sshd-apt.log; fail "installing openssh-server failed (log: .run/sshd-apt.log)"; }
    sshd_bin="$(command -v sshd || echo /usr/sbin/sshd)"
fi
[ -x "$sshd_bin" ] || fail "no sshd after the install"
say "using $sshd_bin ($(ssh -V 2>&1))"

# sshd running as root needs its privilege-separation folder.
if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
    say "creating /run/sshd (sshd's privilege-separation folder)"
    mkdir -p /run/sshd
    chmod 0755 /run/sshd
fi

# 2. A fresh folder with keys and a configuration.
mkdir -p .run/sshd
dir="$(mktemp -d "$root/.run/sshd/run.XXXXXX")"
chmod 0700 "$dir"
user="$(id -un)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
say "folder $dir, user $user, port $port"

ssh-keygen -q -N '' -t ed25519 -C paliadin-test-host -f "$dir/host_ed25519_key"
ssh-keygen -q -N '' -t ed25519 -C paliadin-test-client -f "$dir/id_ed25519"
cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
chmod 0600 "$dir/authorized_keys"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_ed25519_key.pub")" > "$dir/known_hosts"

cat > "$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers $user
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
MaxSessions 20
LogLevel INFO
EOF
"$sshd_bin" -t -f "$dir/sshd_config" || fail "sshd rejects the configuration $dir/sshd_config"

# 3. sshd in the background, stopped on exit (its connection processes first, by pid).
sshd_pid=""
stop_sshd() {
    local status=$?
    if [ -n "$sshd_pid" ] && kill -0 "$sshd_pid" 2>/dev/null; then
        say "stopping sshd (pid $sshd_pid)"
        for child in $(ps -o pid= --ppid "$sshd_pid" 2>/dev/null); do kill "$child" 2>/dev/null || true; done
        kill "$sshd_pid" 2>/dev/null || true
        wait "$sshd_pid" 2>/dev/null || true
    fi
    if [ "$status" = 0 ]; then
        rm -rf "$dir"
    else
        say "sshd log (kept in $dir/sshd.log):"
        tail -n 30 "$dir/sshd.log" 2>/dev/null || true
    fi
    exit "$status"
}
trap stop_sshd EXIT
trap 'exit 130' INT TERM

say "starting sshd on 127.0.0.1:$port"
"$sshd_bin" -D -e -f "$dir/sshd_config" > "$dir/sshd.log" 2>&1 &
sshd_pid=$!
up=0
for _ in $(seq 1 100); do
    kill -0 "$sshd_pid" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
    sleep 0.1
done
[ "$up" = 1 ] || fail "sshd did not accept connections on 127.0.0.1:$port"
say "sshd is up (pid $sshd_pid)"

# A first login by hand: a broken setup shows here, plainly, and not as failing tests.
if ! out="$(ssh -T -o BatchMode=yes -o IdentitiesOnly=yes -i "$dir/id_ed25519" -o UserKnownHostsFile="$dir/known_hosts" \
    -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -p "$port" "$user@127.0.0.1" -- echo paliadin-ssh-ok 2>&1)" ||
    [ "$(printf '%s' "$out" | tail -n 1)" != paliadin-ssh-ok ]; then
    printf '%s\n' "$out" >&2
    fail "a plain ssh login to $user@127.0.0.1:$port does not work"
fi
say "a plain ssh login works"

# 4. The suite.
export PALIADIN_TEST_SSH_HOST=127.0.0.1
export PALIADIN_TEST_SSH_PORT="$port"
export PALIADIN_TEST_SSH_USER="$user"
export PALIADIN_TEST_SSH_KEY="$dir/id_ed25519"
export PALIADIN_TEST_SSH_KNOWN_HOSTS="$dir/known_hosts"

say "building the tests"
swift build --build-tests
say "running swift test --filter RealSSH"
log="$dir/swift-test.log"
set +e
swift test --skip-build --filter RealSSH 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || fail "the RealSSH suite failed (exit status $status)"
grep -q 'Suite "CLI agent over a real sshd" passed' "$log" || fail "the RealSSH suite did not run (skipped?)"
say "passed"

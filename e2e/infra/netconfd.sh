#!/usr/bin/env bash
# A real NETCONF server written by others, for tests: Debian's netconfd (yuma123) with the
# ietf-interfaces module, behind a private OpenSSH server's `netconf` subsystem on 127.0.0.1.
#
#   e2e/infra/netconfd.sh         start (idempotent), then print KEY=VALUE lines:
#                                 port, host_key, username, password, private_key_file, state_dir
#   e2e/infra/netconfd.sh stop    tear down
#
# How the pieces meet: sshd runs `netconf-subsystem` as the logged-in user for each session; that
# thin client connects to netconfd over a unix socket chosen per SSH port
# (`--ncxserver-sockname=PORT@SOCKET`, the port read from SSH_CONNECTION), and netconfd only
# accepts connections for the ports it was told (`--port`). netconfd runs as the same test user,
# so the socket it creates is connectable by the subsystem without widening its permissions.
set -euo pipefail

STATE_DIR="${SWITCHFORGE_NETCONFD_DIR:-${TMPDIR:-/tmp}/switchforge-netconfd}"
TEST_PASSWORD="sfnetconf-test"

log() { echo "netconfd.sh: $*" >&2; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop() {
  for pidfile in "$STATE_DIR/netconfd.pid" "$STATE_DIR/sshd.pid"; do
    if alive "$pidfile"; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  # Give them a moment to exit before the socket and keys go.
  for _ in $(seq 1 20); do
    alive "$STATE_DIR/netconfd.pid" || alive "$STATE_DIR/sshd.pid" || break
    sleep 0.1
  done
  rm -rf "$STATE_DIR"
}

print_info() {
  cat "$STATE_DIR/info"
}

install_packages() {
  local missing=()
  command -v netconfd >/dev/null || missing+=(netconfd)
  [[ -e /usr/lib/x86_64-linux-gnu/yuma/libietf-interfaces.so || -n "$(ls /usr/lib/*/yuma/libietf-interfaces.so 2>/dev/null)" ]] ||
    missing+=(netconfd-module-ietf-interfaces)
  [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages (${missing[*]}) and not root: install them first"
    exit 2
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_for() { # <what> <test command...>
  local what=$1
  shift
  for _ in $(seq 1 100); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  log "timed out waiting for $what"
  return 1
}

start() {
  if alive "$STATE_DIR/netconfd.pid" && alive "$STATE_DIR/sshd.pid" && [[ -f "$STATE_DIR/info" ]]; then
    print_info
    return 0
  fi
  stop
  install_packages

  local user password
  if [[ $(id -u) -eq 0 ]]; then
    # A dedicated unprivileged user: netconfd and netconf-subsystem both run as it.
    # netconfd keeps its work directory in the passwd home (~/.yuma), whatever $HOME says.
    user=sfnetconf
    local home=/var/lib/switchforge-netconf
    if ! id "$user" >/dev/null 2>&1; then
      useradd --system --home-dir "$home" --shell /bin/sh "$user"
    fi
    [[ $(getent passwd "$user" | cut -d: -f6) == "$home" ]] || usermod --home "$home" "$user"
    mkdir -p "$home" && chown "$user" "$home" && chmod 0700 "$home"
    echo "$user:$TEST_PASSWORD" | chpasswd
    password=$TEST_PASSWORD
    mkdir -p /run/sshd && chmod 0755 /run/sshd
  else
    user=$(id -un) # private sshd as non-root serves only its own user, key auth only
    password=
  fi

  # run/ holds what netconfd writes (its socket and log), owned by the user it runs as.
  mkdir -p "$STATE_DIR/run"
  chmod 0755 "$STATE_DIR"
  local port
  port=$(free_port)
  ssh-keygen -q -t ed25519 -N '' -C switchforge-netconfd-host -f "$STATE_DIR/ssh_host_ed25519_key"
  ssh-keygen -q -t ed25519 -N '' -C switchforge-netconfd-client -f "$STATE_DIR/client_ed25519_key"
  cp "$STATE_DIR/client_ed25519_key.pub" "$STATE_DIR/authorized_keys"
  chmod 0644 "$STATE_DIR/authorized_keys"
  [[ $(id -u) -eq 0 ]] && chown "$user" "$STATE_DIR/run"

  # The ietf-interfaces SIL shells out to `get-interface-ipv4 IFNAME` and aborts netconfd when
  # that fails, but Debian's package does not ship the helper (it lives in yuma123's source
  # tree). This one keeps upstream's contract: an ietf-ip <ipv4> fragment, or nothing.
  mkdir -p "$STATE_DIR/bin"
  cat >"$STATE_DIR/bin/get-interface-ipv4" <<'HELPER'
#!/bin/sh
ip=$(ip -4 -o addr show dev "$1" 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }')
[ -n "$ip" ] || exit 0
printf '<ipv4 xmlns="urn:ietf:params:xml:ns:yang:ietf-ip"><address><ip>%s</ip></address></ipv4>\n' "$ip"
HELPER
  chmod 0755 "$STATE_DIR/bin/get-interface-ipv4"

  local sock="$STATE_DIR/run/ncxserver.sock"
  cat >"$STATE_DIR/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $STATE_DIR/ssh_host_ed25519_key
PidFile $STATE_DIR/sshd.pid
AuthorizedKeysFile $STATE_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication $([[ -n $password ]] && echo yes || echo no)
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin no
AllowUsers $user
AllowTcpForwarding no
X11Forwarding no
MaxStartups 100:30:200
LogLevel VERBOSE
Subsystem netconf /usr/sbin/netconf-subsystem --ncxserver-sockname=$port@$sock
EOF

  local run_as=()
  # setpriv and env exec in place, so the recorded pid is netconfd itself.
  [[ $(id -u) -eq 0 ]] && run_as=(setpriv --reuid="$user" --regid="$user" --init-groups)
  # netconfd stays in the foreground; setsid detaches it from the caller's process group. It
  # writes backup-cfg.xml into its working directory on <commit>: run it from its own run/.
  (cd "$STATE_DIR/run" && exec setsid "${run_as[@]}" env PATH="$STATE_DIR/bin:/usr/sbin:/usr/bin:/sbin:/bin" /usr/sbin/netconfd \
    --module=ietf-interfaces --no-startup --superuser="$user" --port="$port" \
    --ncxserver-sockname="$sock" --log="$STATE_DIR/run/netconfd.log" --log-level=info \
    </dev/null >/dev/null 2>&1) &
  echo $! >"$STATE_DIR/netconfd.pid"
  wait_for "netconfd socket $sock" test -S "$sock" || { cat "$STATE_DIR/run/netconfd.log" >&2 || true; exit 1; }

  /usr/sbin/sshd -f "$STATE_DIR/sshd_config" -E "$STATE_DIR/sshd.log"
  wait_for "sshd on port $port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null ||
    { cat "$STATE_DIR/sshd.log" >&2 || true; exit 1; }

  {
    echo "port=$port"
    echo "host_key=$(cut -d' ' -f1,2 "$STATE_DIR/ssh_host_ed25519_key.pub")"
    echo "username=$user"
    echo "password=$password"
    echo "private_key_file=$STATE_DIR/client_ed25519_key"
    echo "state_dir=$STATE_DIR"
  } >"$STATE_DIR/info"
  print_info
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 [start|stop]" >&2
    exit 64
    ;;
esac

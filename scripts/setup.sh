#!/usr/bin/env bash
# Prepare this checkout on a fresh Debian/Ubuntu machine: system packages (apt, when root),
# the pinned Python virtualenv (.venv), the git-ignored collection self-link (.collections/),
# and the offline pip bootstrap ansible-test looks for. Safe to run again: it only does what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

apt_packages=(podman runc netavark aardvark-dns iptables uidmap debootstrap skopeo postgresql postgresql-client git make rsync iproute2 ca-certificates docker-registry apache2-utils)

log() { printf 'setup: %s\n' "$*"; }

install_system_packages() {
  local missing=()
  local pkg
  for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing system packages: ${missing[*]} (run as root or install them with apt-get)" >&2
    exit 1
  fi
  log "installing system packages: ${missing[*]}"
  # apt's own DPkg::Lock::Timeout covers only the dpkg frontend lock (not apt-get update's lists
  # lock, nor the archives lock): wait for all of them first, then let apt wait for the frontend
  # lock too (a second apt may take it between our check and apt's start).
  wait_for_apt_locks
  apt-get -o DPkg::Lock::Timeout="$apt_lock_timeout" update -qq
  wait_for_apt_locks
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$apt_lock_timeout" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # docker-registry is only a binary for the tests (each starts its own, with htpasswd, on loopback):
  # on a systemd host its package also starts an unauthenticated registry on :5000; stop that one.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled docker-registry >/dev/null 2>&1; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
}

# The locks apt and dpkg take (fcntl/POSIX record locks, invisible to flock(1)). On a fresh
# machine the machine's own apt (apt-daily, unattended-upgrades, cloud-init) holds them for a
# while after boot. YELLOW_APT_LOCKS (space-separated paths) and YELLOW_APT_LOCK_TIMEOUT
# (seconds) override them, for tests.
apt_lock_files=(${YELLOW_APT_LOCKS:-/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock})
apt_lock_timeout=${YELLOW_APT_LOCK_TIMEOUT:-600}

apt_lock_holder() {
  # Prints "process PID (NAME)" when another process holds a POSIX lock on $1; nothing when the
  # file is free or absent. F_GETLK only asks: it never takes the lock, so apt is not disturbed.
  python3 - "$1" <<'PY'
import fcntl, os, struct, sys
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
except OSError:
    sys.exit(0)
try:
    # struct flock (64-bit off_t): l_type, l_whence, l_start, l_len, l_pid
    lock = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0))
    kind, _whence, _start, _length, pid = struct.unpack("hhqqi4x", lock)
except OSError:
    try:  # no F_GETLK here: try the lock (non-blocking) and let it go at once
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        sys.exit(0)
    except OSError:
        kind, pid = fcntl.F_WRLCK, 0
if kind == fcntl.F_UNLCK:
    sys.exit(0)
name = "?"
if pid > 0:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as handle:
            name = handle.read().strip()
    except OSError:
        pass
print(f"process {pid} ({name})" if pid > 0 else "another process")
PY
}

wait_for_apt_locks() {
  # Bounded wait (apt_lock_timeout seconds) until no apt/dpkg lock is held; says what holds it.
  local start=$SECONDS lock holder waiting=
  while :; do
    holder=
    for lock in "${apt_lock_files[@]}"; do
      holder=$(apt_lock_holder "$lock")
      [ -n "$holder" ] && break
    done
    if [ -z "$holder" ]; then
      [ -n "$waiting" ] && log "apt/dpkg locks free after $((SECONDS - start)) s"
      return 0
    fi
    if [ $((SECONDS - start)) -ge "$apt_lock_timeout" ]; then
      log "gave up after ${apt_lock_timeout} s: $lock is still held by $holder (the machine's own apt?);" \
        "wait for it to finish (systemctl status apt-daily.service unattended-upgrades.service) and run again" >&2
      exit 1
    fi
    if [ "$waiting" != "$lock $holder" ]; then
      log "waiting for $lock, held by $holder (the machine's own apt at boot, such as apt-daily or unattended-upgrades):" \
        "waiting up to ${apt_lock_timeout} s (YELLOW_APT_LOCK_TIMEOUT)"
      waiting="$lock $holder"
    fi
    sleep 1
  done
}

create_venv() {
  local stamp=.venv/.requirements.sha256
  local want
  want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "creating .venv from requirements.txt"
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" >"$stamp"
}

link_collection() {
  # ansible_collections/datasurface/yellow -> this checkout, so FQCNs resolve from git.
  mkdir -p .collections/ansible_collections/datasurface
  ln -sfn ../../.. .collections/ansible_collections/datasurface/yellow
}

seed_ansible_test_pip() {
  # ansible-test --venv downloads get-pip from a host that is not reachable offline; it accepts a
  # pre-seeded copy. This one bootstraps pip from the interpreter's own ensurepip, then installs
  # whatever ansible-test asks for from the package index (get-pip's own options are dropped).
  local cache="$HOME/.ansible/test/cache"
  local script="$cache/get_pip_24_2.py"
  local want
  want=$(cat <<'PY'
"""Offline stand-in for get-pip.py: ensurepip, then `pip install` the given requirements."""
import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}
environment = dict(os.environ)
ensurepip.bootstrap(upgrade=True)  # sets PIP_CONFIG_FILE=/dev/null in os.environ: restore the caller's
args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args, env=environment))
PY
)
  [ -s "$script" ] && [ "$(cat "$script")" = "$want" ] && return 0
  mkdir -p "$cache"
  printf '%s\n' "$want" >"$script"
}

# `setup.sh wait-apt-locks`: only the bounded wait for the apt/dpkg locks (tests use it).
if [ "${1:-}" = wait-apt-locks ]; then
  wait_for_apt_locks
  exit 0
fi
install_system_packages
create_venv
link_collection
seed_ansible_test_pip
# The whole output read first: `| head -1` closed the pipe on it (a BrokenPipe traceback under ANSIBLE_VERBOSITY).
version=$(.venv/bin/ansible --version)
log "ready: $root/.venv (${version%%$'\n'*})"

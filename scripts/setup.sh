#!/usr/bin/env bash
# Prepare this checkout on a fresh Debian/Ubuntu machine: system packages (apt, when root),
# the pinned Python virtualenv (.venv), the git-ignored collection self-link (.collections/),
# and the offline pip bootstrap ansible-test looks for. Safe to run again: it only does what is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

apt_packages=(podman runc netavark aardvark-dns iptables uidmap debootstrap skopeo postgresql postgresql-client git make rsync iproute2 ca-certificates)

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
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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

install_system_packages
create_venv
link_collection
seed_ansible_test_pip
log "ready: $root/.venv ($(.venv/bin/ansible --version | head -1))"

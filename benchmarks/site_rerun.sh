#!/usr/bin/env bash
# site.yml on the local lab: wall time of the first run on a fresh lab vs the second run with
# nothing to change, measured in one run of this script. The second run is what an operator pays
# for re-running the whole platform "just to be sure"; the ratio second/first is what we claim.
#
# usage: benchmarks/site_rerun.sh [--keep]   (--keep leaves the lab up afterwards)
# Needs: make setup and the lab image (make lab-image). Tears down any existing lab first
# (its secrets in .lab/secrets stay). Takes several minutes (apt inside the lab containers).
# Absolute times on this machine are noisy; only the ratio of one run means something.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$root/.collections" ANSIBLE_CONFIG="$root/ansible.cfg"
export CONTAINERS_CONF="$root/tests/lab/containers.conf" ANSIBLE_FORCE_COLOR=false PY_COLORS=0 ANSIBLE_NOCOLOR=1
keep=false
[ "${1:-}" = "--keep" ] && keep=true
logs=$root/.cache/bench
mkdir -p "$logs"

log() { printf 'bench: %s\n' "$*" >&2; }
seconds() { python3 -c 'import time; print(f"{time.monotonic():.3f}")'; }
recap_changed() { grep -E '^[a-z0-9.-]+ +: ok=' "$1" | sed -E 's/^([^ ]+) +: .*changed=([0-9]+).*/\1=\2/' | tr '\n' ' '; }

log "fresh lab: down, up"
ansible-playbook tests/lab/down.yml -i inventories/lab >"$logs/site-down.log" 2>&1
ansible-playbook tests/lab/up.yml -i inventories/lab >"$logs/site-up.log" 2>&1

log "(a) first site.yml run"
start=$(seconds)
ansible-playbook site.yml -i inventories/lab >"$logs/site-run1.log" 2>&1
first=$(python3 -c "print(f'{$(seconds) - $start:.1f}')")

log "(b) second site.yml run (nothing to change)"
start=$(seconds)
ansible-playbook site.yml -i inventories/lab >"$logs/site-run2.log" 2>&1
second=$(python3 -c "print(f'{$(seconds) - $start:.1f}')")

$keep || ansible-playbook tests/lab/down.yml -i inventories/lab >>"$logs/site-down.log" 2>&1

echo "site.yml on the local lab (3 nodes, PostgreSQL host, simulated cluster), one run of this script"
printf '(a) first run   %7.1f s   changed: %s\n' "$first" "$(recap_changed "$logs/site-run1.log")"
printf '(b) second run  %7.1f s   changed: %s\n' "$second" "$(recap_changed "$logs/site-run2.log")"
python3 -c "print(f'b/a = {$second / $first:.2f}  (the no-change run takes {100 * $second / $first:.0f}% of the first)')"

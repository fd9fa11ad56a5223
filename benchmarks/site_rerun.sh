#!/usr/bin/env bash
# site.yml on the local lab, measured in one run of this script: the wall time of (a) the first run on a fresh lab,
# (b) a second run with nothing to change and (c) a --check run, the ratios b/a and c/a, and each run's five
# costliest tasks (ansible.posix.profile_tasks, printed into each run's log). (b) is what an operator pays for
# re-running the whole platform "just to be sure", (c) for checking drift.
#
# usage: benchmarks/site_rerun.sh [--keep]   (--keep leaves the lab up afterwards)
# Needs: make setup, the lab image and the lab's images (make lab builds them). Tears down any existing lab first
# (its secrets in .lab/secrets stay). Absolute times on this machine are noisy; only the ratios of one run mean
# something.
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

export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=5
run() {  # run NAME [ARG...]: site.yml, its log in $logs/site-NAME.log; prints the seconds it took
  local name=$1 start
  shift
  start=$(seconds)
  ansible-playbook site.yml -i inventories/lab "$@" >"$logs/site-$name.log" 2>&1
  python3 -c "print(f'{$(seconds) - $start:.1f}')"
}
# Seconds a task took in a run's log: profile_tasks stamps each task header with the time the previous task took.
# Used for verify's Airflow API check, which waits for Airflow to settle (Airflow's time, not the collection's work).
task_seconds() {
  python3 - "$1" "$2" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
starts = [i for i, line in enumerate(lines) if line.startswith("TASK [") or line.startswith("PLAY RECAP")]
for here, following in zip(starts, starts[1:]):
    if sys.argv[2] in lines[here]:
        stamp = re.search(r"\((\d+):(\d+):(\d+\.\d+)\)", " ".join(lines[following:following + 2]))
        print(f"{int(stamp[1]) * 3600 + int(stamp[2]) * 60 + float(stamp[3]):.1f}" if stamp else "?")
        break
else:
    print("?")
PY
}
waited() { task_seconds "$logs/site-$1.log" "verify : Read the Airflow REST API]"; }
# profile_tasks' summary after "TASKS RECAP": its slowest tasks, "role : task ---- 12.34s" (one dash at least)
top() { sed -n '/^TASKS RECAP/,$p' "$1" | grep -E -- ' -+ [0-9]+\.[0-9]+s$' | head -n 5 | sed -E 's/ -+ ([0-9.]+s)$/  \1/; s/^/      /'; }

log "(a) first site.yml run"
first=$(run run1)
log "(b) second site.yml run (nothing to change)"
second=$(run run2)
log "(c) site.yml --check"
check=$(run check --check)

$keep || ansible-playbook tests/lab/down.yml -i inventories/lab >>"$logs/site-down.log" 2>&1

echo "site.yml on the local lab (real control plane and nodes, Airflow, PostgreSQL host), one run of this script"
printf '(a) first run   %7.1f s   changed: %s  Airflow API check %s s\n' "$first" "$(recap_changed "$logs/site-run1.log")" "$(waited run1)"
top "$logs/site-run1.log"
printf '(b) second run  %7.1f s   changed: %s  Airflow API check %s s\n' "$second" "$(recap_changed "$logs/site-run2.log")" "$(waited run2)"
top "$logs/site-run2.log"
printf '(c) --check     %7.1f s   changed: %s  Airflow API check %s s\n' "$check" "$(recap_changed "$logs/site-check.log")" "$(waited check)"
top "$logs/site-check.log"
python3 -c "print(f'b/a = {$second / $first:.2f}  (the no-change run takes {100 * $second / $first:.0f}% of the first)')"
python3 -c "print(f'c/a = {$check / $first:.2f}  (the --check run takes {100 * $check / $first:.0f}% of the first)')"

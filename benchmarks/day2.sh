#!/usr/bin/env bash
# Day-2 playbooks before and after, on the running lab, measured in one run of this script: the wall time of
# playbooks/capacity_report.yml and playbooks/mcp.yml (status) from the collection at BEFORE (a git ref, checked out
# in a temporary worktree and installed as datasurface.yellow there) and from this checkout, run alternately, N
# times each; prints each median and the ratio after/before. Both run with this checkout's inventories/lab (the same
# cluster, the same operator identity, the same settings), so the only difference is the collection's code.
#
# usage: benchmarks/day2.sh [BEFORE_REF] [N]   (defaults: a4f423f, the tree before issue 14's Kubernetes client
#                                               and k8s_read; 5 runs each)
# Needs: make setup and a running lab (make lab). Absolute times on this machine are noisy; the ratio of one run is
# the point.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
before_ref=${1:-a4f423f}
runs=${2:-5}
export PATH="$root/.venv/bin:$PATH" ANSIBLE_CONFIG="$root/ansible.cfg" CONTAINERS_CONF="$root/tests/lab/containers.conf"
export ANSIBLE_FORCE_COLOR=false ANSIBLE_NOCOLOR=1 PY_COLORS=0
logs=$root/.cache/bench
mkdir -p "$logs"
work=$(mktemp -d "${TMPDIR:-/tmp}/yellow-day2.XXXXXX")
cleanup() { git -C "$root" worktree remove --force "$work/before" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

git -C "$root" worktree add --detach "$work/before" "$before_ref" >/dev/null 2>&1
mkdir -p "$work/collections/ansible_collections/datasurface"
ln -s "$work/before" "$work/collections/ansible_collections/datasurface/yellow"
# Each tree as the installed datasurface.yellow, the other collections from the venv's ansible bundle.
before_path="$work/collections:$root/.venv/lib/python3.11/site-packages"
after_path="$root/.collections:$root/.venv/lib/python3.11/site-packages"

seconds() { python3 -c 'import time; print(f"{time.monotonic():.3f}")'; }
run() {  # run TREE PLAYBOOK [ARGS...]: one run; prints its seconds; fails on a failed run
  local tree=$1 book=$2 start path dir
  shift 2
  if [ "$tree" = before ]; then path=$before_path dir=$work/before; else path=$after_path dir=$root; fi
  start=$(seconds)
  ANSIBLE_COLLECTIONS_PATH=$path ansible-playbook "$dir/playbooks/$book" -i "$root/inventories/lab" "$@" \
    >"$logs/day2-$tree-${book%.yml}.log" 2>&1 || { echo "bench: $tree $book failed: $logs/day2-$tree-${book%.yml}.log" >&2; exit 1; }
  python3 -c "print(f'{$(seconds) - $start:.2f}')"
}
median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.2f}")' "$@"; }

echo "day-2 playbooks on the lab, $runs runs each, alternating; before = $before_ref ($(git -C "$root" rev-parse --short "$before_ref")), after = this checkout"
for book in capacity_report.yml mcp.yml; do
  b=() a=()
  for _ in $(seq "$runs"); do
    b+=("$(run before "$book" -e yellow_ops_mcp_action=status)")
    a+=("$(run after "$book" -e yellow_ops_mcp_action=status)")
  done
  mb=$(median "${b[@]}") ma=$(median "${a[@]}")
  printf '%-20s before %6s s  after %6s s  (runs: before %s; after %s)\n' "$book" "$mb" "$ma" "${b[*]}" "${a[*]}"
  python3 -c "print(f'{\"\":20s} after/before = {$ma / $mb:.2f}  (before/after = {$mb / $ma:.2f}x)')"
done

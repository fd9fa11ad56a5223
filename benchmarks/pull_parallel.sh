#!/usr/bin/env bash
# Pull orchestration overhead, measured in one run on the podman lab (registry + 3 containerd nodes
# of the node_prep molecule scenario) with a test image of >= 500 MB in several layers.
#
# Prints (a) playbooks/pull_images.yml on 3 nodes, (b) raw `ctr` pulls on the same 3 nodes in
# parallel, (c) the HOWTO's serial loop of raw pulls, (d) pull_images.yml again with the image
# present, and the ratios a/b (target <= 1.3), a/c (target <= 0.7), d/a (target <= 0.25).
# Absolute times on this machine are noisy; only the ratios of one run mean something.
#
# usage: benchmarks/pull_parallel.sh [--keep]   (--keep leaves the lab instances running)
# Needs: make setup, the lab image (tests/lab/build_base_image.sh). Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$root/.collections" ANSIBLE_CONFIG="$root/ansible.cfg"
export CONTAINERS_CONF="$root/tests/lab/containers.conf" ANSIBLE_FORCE_COLOR=false PY_COLORS=0
keep=false
[ "${1:-}" = "--keep" ] && keep=true

layers=${YELLOW_BENCH_LAYERS:-6}
layer_mb=${YELLOW_BENCH_LAYER_MB:-120}
nodes=(yellow-molecule-node1 yellow-molecule-node2 yellow-molecule-node3)
work=$root/.cache/bench
image_local=localhost/datasurface-yellow-lab/bench-big:${layers}x${layer_mb}
mkdir -p "$work"
chmod 700 "$work"

log() { printf 'bench: %s\n' "$*" >&2; }
seconds() { python3 -c 'import time; print(f"{time.monotonic():.3f}")'; }

# 1. The lab: the node_prep scenario's instances with registry, containerd and credentials.
log "creating the lab (molecule create + prepare -s node_prep)"
molecule create -s node_prep >"$work/molecule-create.log" 2>&1
molecule prepare -s node_prep --force >"$work/molecule-prepare.log" 2>&1
cleanup() {
  rm -f "$work/auth.json" "$work/vars.json"
  if ! $keep; then
    log "destroying the lab"
    molecule destroy -s node_prep >"$work/molecule-destroy.log" 2>&1 || true
  fi
}
trap cleanup EXIT

# Credentials of the scenario (test-only values), read without putting them on a command line.
python3 - "$work/vars.json" <<'PY'
import json, os, sys, yaml
doc = yaml.safe_load(open("molecule/node_prep/inventory/group_vars/all.yml"))
with open(os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
    json.dump({k: doc[k] for k in ("yellow_molecule_registry", "yellow_molecule_registry_user", "yellow_molecule_registry_password")}, out)
PY
value() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/vars.json" "$1"; }
registry=$(value yellow_molecule_registry)
user=$(value yellow_molecule_registry_user)
registry_ip=$(podman inspect yellow-molecule-registry --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')

# 2. A big test image: several layers of incompressible data, pushed with skopeo.
if ! podman image exists "$image_local"; then
  log "building $image_local ($layers layers x $layer_mb MB of random data)"
  ctx=$work/context
  mkdir -p "$ctx"
  {
    echo "FROM localhost/datasurface-yellow-lab/bookworm:latest"
    for i in $(seq 1 "$layers"); do
      [ -s "$ctx/layer$i.bin" ] || head -c "$((layer_mb * 1024 * 1024))" /dev/urandom >"$ctx/layer$i.bin"
      echo "COPY layer$i.bin /opt/bench/layer$i.bin"
    done
  } >"$ctx/Containerfile"
  podman build --quiet -t "$image_local" -f "$ctx/Containerfile" "$ctx" >/dev/null
fi
python3 - "$work/vars.json" "$work/auth.json" "$registry_ip:5000" <<'PY'
import base64, json, os, sys
v = json.load(open(sys.argv[1]))
token = base64.b64encode(f"{v['yellow_molecule_registry_user']}:{v['yellow_molecule_registry_password']}".encode()).decode()
with open(os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
    json.dump({"auths": {sys.argv[3]: {"auth": token}}}, out)
PY
log "pushing it to the lab registry"
skopeo copy --quiet --dest-tls-verify=false --dest-authfile "$work/auth.json" \
  "containers-storage:$image_local" "docker://$registry_ip:5000/datasurface/big:1"
image="$registry/datasurface/big:1"
size=$(skopeo inspect --tls-verify=false --authfile "$work/auth.json" --raw "docker://$registry_ip:5000/datasurface/big:1" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]) // 2**20)')
log "image $image: $size MiB compressed in $(($layers + 1)) layers"

# The same inventory and variables the node_prep scenario uses, pulling the big image.
cat >"$work/hosts.yml" <<YAML
all:
  vars:
    ansible_connection: containers.podman.podman
  children:
    cluster_nodes:
      hosts: {yellow-molecule-node1: {}, yellow-molecule-node2: {}, yellow-molecule-node3: {}}
YAML
playbook() {
  ansible-playbook -i "$work/hosts.yml" -e @molecule/node_prep/inventory/group_vars/all.yml \
    -e "{\"yellow_node_pull_images\": [\"$image\"]}" playbooks/pull_images.yml >"$work/$1.log" 2>&1
}
# Remove every image in k8s.io (the CRI plugin keeps a second, sha256:<id> name that would keep
# the content alive) and let containerd's garbage collector drop the blobs and snapshots.
reset_nodes() {
  for node in "${nodes[@]}"; do
    podman exec "$node" sh -c 'ctr -n k8s.io images ls -q | xargs -r ctr -n k8s.io images rm --sync >/dev/null 2>&1; true' &
  done
  wait
  for node in "${nodes[@]}"; do
    left=$(podman exec "$node" sh -c 'ctr -n k8s.io content ls -q | wc -l')
    [ "$left" -eq 0 ] || log "warning: $node still holds $left blobs after the reset"
  done
}
# The HOWTO's raw pull: password on the command line (what this collection avoids); lab secret only.
raw_pull() {
  podman exec -i "$1" sh -c 'IFS= read -r pw; exec ctr -n k8s.io images pull --plain-http --user "$0:$pw" "$1" >/dev/null' \
    "$user" "$image" <<<"$(value yellow_molecule_registry_password)"
}

reset_nodes
log "(a) pull_images.yml on 3 nodes"
t0=$(seconds); playbook a; t1=$(seconds); a=$(python3 -c "print(round($t1-$t0,2))")
log "(d) pull_images.yml again, image present"
t0=$(seconds); playbook d; t1=$(seconds); d=$(python3 -c "print(round($t1-$t0,2))")
grep -q 'changed=0' "$work/d.log" || { log "(d) changed something: see $work/d.log"; exit 1; }
reset_nodes
log "(b) raw ctr pulls on 3 nodes in parallel"
t0=$(seconds)
for node in "${nodes[@]}"; do raw_pull "$node" & done
wait
t1=$(seconds); b=$(python3 -c "print(round($t1-$t0,2))")
reset_nodes
log "(c) raw ctr pulls, one node after the other (the HOWTO's loop)"
t0=$(seconds)
for node in "${nodes[@]}"; do raw_pull "$node"; done
t1=$(seconds); c=$(python3 -c "print(round($t1-$t0,2))")

python3 - "$a" "$b" "$c" "$d" "$size" <<'PY'
import sys
a, b, c, d, size = map(float, sys.argv[1:])
print(f"image: {size:.0f} MiB compressed, 3 nodes")
print(f"(a) pull_images.yml, 3 nodes        {a:8.2f} s")
print(f"(b) raw ctr pulls, parallel          {b:8.2f} s")
print(f"(c) raw ctr pulls, serial (HOWTO)    {c:8.2f} s")
print(f"(d) pull_images.yml, image present   {d:8.2f} s")
print(f"a/b = {a / b:.2f}  (target <= 1.3: orchestration adds little)")
print(f"a/c = {a / c:.2f}  (target <= 0.7)")
print(f"d/a = {d / a:.2f}  (target <= 0.25)")
PY

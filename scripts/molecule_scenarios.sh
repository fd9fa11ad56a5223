#!/usr/bin/env bash
# The molecule scenarios CI runs: every molecule/<name>/molecule.yml except opt-in ones (a file
# named OPT-IN beside molecule.yml marks a scenario that needs outside resources, e.g. a real
# cluster through KUBECONFIG).
set -euo pipefail
cd "$(dirname "$0")/.."
for file in molecule/*/molecule.yml; do
  dir=$(dirname "$file")
  [ -e "$dir/OPT-IN" ] && continue
  basename "$dir"
done

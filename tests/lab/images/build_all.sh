#!/usr/bin/env bash
# Build (or reuse) every image the lab needs, one after the other: the base image, the nodes' system images
# (pause, CoreDNS), the Airflow chart's images (Airflow, git-sync, Redis, statsd-exporter) and the stand-in
# generator's image. scripts/test.sh runs it in the background while earlier stages run; `make lab` then
# finds them cached.
set -euo pipefail
cd "$(dirname "$0")/../../.."
tests/lab/build_base_image.sh
for recipe in pause coredns airflow git-sync redis statsd-exporter; do
  "tests/lab/images/$recipe/build.sh"
done
tests/lab/build_generator_image.sh

#!/usr/bin/env bash
# Runs every fuzzer of the project for a while (default 60s each):
#   scripts/fuzz.sh [DURATION]      e.g. scripts/fuzz.sh 10m
# The seed corpus is committed in */testdata/fuzz; what a fuzzer finds that
# fails is written there too, and `go test` then replays it forever after.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-60s}
for target in "./cifar10 FuzzReadRecords" "./cifar10 FuzzReadArchive" "./cifar10 FuzzUnpickle" "./safetensors FuzzRead"; do
  set -- $target
  echo "== $2 ($1) for $t"
  go test -run '^$' -fuzz "^$2\$" -fuzztime "$t" "$1"
done

#!/bin/bash
# Issue 11's target: every optimizer's update at most 10% of the exercise's
# epoch time. For each optimizer (and option set) below, train the exercise
# for EPOCHS epochs with `cifarnet bench --cpuprofile` and print the share of
# the CPU profile spent in package optim (the update, wherever it runs:
# inside the backward pass or after it) with the epoch's median time. Run on
# a quiet machine from the repository root:
#
#   bash scripts/optimizer_share.sh [DATA] [EPOCHS] [-- BENCH FLAGS...]
#
# (defaults ../shared/cifar-10-batches-bin and 16; flags after -- go to
# every bench, e.g. -- --threads 1). The share moves by a few points from
# one run to the next on a shared machine: compare several runs.
set -euo pipefail
data=${1:-../shared/cifar-10-batches-bin}
epochs=${2:-16}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = -- ] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/cifarnet" ./cmd/cifarnet
cat "$data"/* > /dev/null # the data in the page cache

printf '%-40s %8s %14s\n' optimizer share "epoch median"
while IFS='|' read -r label flags; do
	# shellcheck disable=SC2086 # flags are words
	"$work/cifarnet" bench --data "$data" --epochs "$epochs" $flags "$@" --cpuprofile "$work/cpu.prof" > "$work/bench.txt"
	share=$(go tool pprof -top -focus 'optim\.' "$work/cifarnet" "$work/cpu.prof" 2>/dev/null |
		sed -n 's/.*Showing nodes accounting for .*, \([0-9.]*%\) of .* total.*/\1/p')
	median=$(tail -1 "$work/bench.txt" | sed -n 's/^median \([0-9.]* ms\).*/\1/p')
	printf '%-40s %8s %14s\n' "$label" "${share:-0%}" "$median"
done <<'LIST'
nadam (the exercise)|--optimizer nadam
adam|--optimizer adam
adam --amsgrad|--optimizer adam --amsgrad
adamw|--optimizer adamw
adamax|--optimizer adamax
sgd|--optimizer sgd
sgd --momentum 0.9 --nesterov|--optimizer sgd --momentum 0.9 --nesterov
rmsprop|--optimizer rmsprop
rmsprop --centered --momentum 0.9|--optimizer rmsprop --centered --momentum 0.9
adagrad|--optimizer adagrad
adadelta|--optimizer adadelta
lion|--optimizer lion
adamw --use-ema|--optimizer adamw --use-ema
adamw --clipnorm 1 --use-ema|--optimizer adamw --clipnorm 1 --use-ema
nadam, every base option|--optimizer nadam --clipnorm 1 --weight-decay 0.004 --use-ema --ema-overwrite-frequency 10
LIST

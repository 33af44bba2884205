#!/bin/bash
# Issue 11's target: every optimizer's update at most 10% of the exercise's
# epoch time. For each optimizer (and option set) below, train the exercise
# for EPOCHS epochs with `cifarnet bench` and print the median share of the
# epoch's time (on every thread) spent in the optimizer's update, as bench
# measures it (train.UpdateClock: the wall time of each update call,
# wherever it runs: inside the backward pass or after it), with the
# epoch's median time. Run on a quiet machine from the repository root:
#
#   bash scripts/optimizer_share.sh [DATA] [EPOCHS] [-- BENCH FLAGS...]
#
# (defaults ../shared/cifar-10-batches-bin and 16; flags after -- go to
# every bench, e.g. -- --threads 1). RUNS=N runs the whole list N times
# and prints each optimizer's lowest and highest share and epoch median:
# the same build's share moves by about half a point between runs on a
# shared machine, so one run cannot place a share near 10%. The update's
# indirect cost (the caches it takes from the rest of the step) is not in
# this share: go test ./train -run XXX -bench UpdateShare measures the step
# with and without it.
set -euo pipefail
data=${1:-../shared/cifar-10-batches-bin}
epochs=${2:-16}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = -- ] && shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/cifarnet" ./cmd/cifarnet
cat "$data"/* > /dev/null # the data in the page cache

runs=${RUNS:-1}
case $runs in '' | *[!0-9]* | 0) echo "optimizer_share.sh: RUNS=$runs: want a whole number of runs, at least 1" >&2; exit 2 ;; esac
out=$work/shares
for run in $(seq "$runs"); do
	[ "$runs" = 1 ] || echo "run $run of $runs" >&2
	while IFS='|' read -r label flags; do
		# shellcheck disable=SC2086 # flags are words
		last=$("$work/cifarnet" bench --data "$data" --epochs "$epochs" $flags "$@" | tail -1)
		share=$(sed -n 's/.* update \([0-9.]*\)% of the epoch$/\1/p' <<< "$last")
		median=$(sed -n 's/^median \([0-9.]*\) ms.*/\1/p' <<< "$last")
		printf '%s|%s|%s\n' "$label" "$share" "$median" >> "$out"
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
done

# One line per optimizer, in the list's order: the share and the epoch's
# median, each as low-high over the runs (one value after one run).
awk -F'|' '
	!($1 in lo) { order[++n] = $1; lo[$1] = hi[$1] = $2; elo[$1] = ehi[$1] = $3; next }
	{ if ($2 + 0 < lo[$1] + 0) lo[$1] = $2; if ($2 + 0 > hi[$1] + 0) hi[$1] = $2
	  if ($3 + 0 < elo[$1] + 0) elo[$1] = $3; if ($3 + 0 > ehi[$1] + 0) ehi[$1] = $3 }
	function span(a, b) { return a == b ? a : a "-" b }
	END {
		printf "%-40s %12s %20s\n", "optimizer", "share (%)", "epoch median (ms)"
		for (i = 1; i <= n; i++) { k = order[i]; printf "%-40s %12s %20s\n", k, span(lo[k], hi[k]), span(elo[k], ehi[k]) }
	}' "$out"

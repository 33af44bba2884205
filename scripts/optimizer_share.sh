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
#
# AGAINST=REV (a commit, e.g. main) also builds REV and runs each row with
# both builds, one after the other, in turn (REV first in odd runs, the
# tree first in even ones): side by side, so that the machine's drift
# falls on both alike.
set -euo pipefail
data=${1:-../shared/cifar-10-batches-bin}
epochs=${2:-16}
shift $(($# < 2 ? $# : 2))
[ "${1:-}" = -- ] && shift
runs=${RUNS:-1}
case $runs in '' | *[!0-9]*) runs=0 ;; esac
[ $((10#$runs)) -ge 1 ] || { echo "optimizer_share.sh: RUNS=${RUNS:-}: want a whole number of runs, at least 1" >&2; exit 2; }
runs=$((10#$runs))
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
builds=tree
go build -o "$work/tree" ./cmd/cifarnet
if [ -n "${AGAINST:-}" ]; then
	rev=$(git rev-parse --verify --quiet "${AGAINST}^{commit}") || { echo "optimizer_share.sh: AGAINST=$AGAINST: not a commit of this repository" >&2; exit 2; }
	mkdir "$work/src"
	git archive "$rev" | tar -x -C "$work/src"
	(cd "$work/src" && go build -o "$work/against" ./cmd/cifarnet) || { echo "optimizer_share.sh: AGAINST=$AGAINST: its build failed (above)" >&2; exit 1; }
	builds="against tree"
	echo "against: $AGAINST ($(git rev-parse --short "$rev")); tree: $(git rev-parse --short HEAD)$([ -z "$(git status --porcelain)" ] || echo ' with changes')" >&2
fi
cat "$data"/* > /dev/null # the data in the page cache

out=$work/shares
for run in $(seq "$runs"); do
	[ "$runs" = 1 ] || echo "run $run of $runs" >&2
	order=$builds
	[ $((run % 2)) = 0 ] && order=$(tr ' ' '\n' <<< "$builds" | tac | tr '\n' ' ')
	while IFS='|' read -r label flags; do
		for build in $order; do
			# shellcheck disable=SC2086 # flags are words
			last=$("$work/$build" bench --data "$data" --epochs "$epochs" $flags "$@" | tail -1)
			share=$(sed -n 's/.* update \([0-9.]*\)% of the epoch.*/\1/p' <<< "$last") # "(one epoch: the warm-up)" may follow
			median=$(sed -n 's/^median \([0-9.]*\) ms.*/\1/p' <<< "$last")
			printf '%s|%s|%s|%s\n' "$label" "$build" "$share" "$median" >> "$out"
		done
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

# One line per optimizer, in the list's order: for each build, the share
# and the epoch's median, each as low-high over the runs (one value after
# one run).
awk -F'|' -v builds="$builds" '
	function span(a, b) { return a == b ? a : a "-" b }
	{ k = $1 SUBSEP $2 }
	!($1 in seen) { seen[$1] = 1; order[++n] = $1 }
	!(k in lo) { lo[k] = hi[k] = $3; elo[k] = ehi[k] = $4; next }
	{ if ($3 + 0 < lo[k] + 0) lo[k] = $3; if ($3 + 0 > hi[k] + 0) hi[k] = $3
	  if ($4 + 0 < elo[k] + 0) elo[k] = $4; if ($4 + 0 > ehi[k] + 0) ehi[k] = $4 }
	END {
		nb = split(builds, b, " ")
		printf "%-40s", "optimizer"
		for (j = 1; j <= nb; j++) printf " %18s %18s", (nb > 1 ? b[j] " " : "") "share (%)", "epoch median (ms)"
		printf "\n"
		for (i = 1; i <= n; i++) {
			printf "%-40s", order[i]
			for (j = 1; j <= nb; j++) { k = order[i] SUBSEP b[j]; printf " %18s %18s", span(lo[k], hi[k]), span(elo[k], ehi[k]) }
			printf "\n"
		}
	}' "$out"

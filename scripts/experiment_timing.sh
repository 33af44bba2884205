#!/bin/bash
# Issue 12's target for the 30-seed exercise experiment: its wall time
# against the sum of its runs' times when each is trained alone, one after
# the other, in the same session (target: at most 1.1x, and at most 75 s).
# Run on a quiet machine from the repository root:
#
#   bash scripts/experiment_timing.sh [DATA] [FIRST-LAST]
#
# (defaults ../shared/cifar-10-batches-bin and 0-29). It builds cifarnet,
# times `cifarnet experiment --seeds FIRST-LAST` (every run, its report, the
# statistics, figures and report.html), then `cifarnet train --seed S` for
# each seed alone (all CPUs each), and checks that every run gave the same
# model in both.
set -euo pipefail
data=${1:-../shared/cifar-10-batches-bin}
seeds=${2:-0-29}
first=${seeds%-*}
last=${seeds#*-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/cifarnet" ./cmd/cifarnet
cat "$data"/* > /dev/null # the data in the page cache for both

now() { date +%s.%N; }
t0=$(now)
"$work/cifarnet" experiment --data "$data" --seeds "$seeds" --dir "$work/exp" -q > /dev/null
t1=$(now)
experiment=$(echo "$t1 - $t0" | bc)

alone=0
for s in $(seq "$first" "$last"); do
	a=$(now)
	"$work/cifarnet" train --data "$data" --seed "$s" --out "$work/alone/$s" -q > /dev/null
	b=$(now)
	alone=$(echo "$alone + $b - $a" | bc)
done

python3 - "$work" "$experiment" "$alone" <<'PY'
import hashlib, json, os, sys
work, experiment, alone = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def sha(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()
e = json.load(open(os.path.join(work, "exp", "experiment.json")))
train_alone = 0.0
for r in e["runs"]:
    d = os.path.join(work, "alone", str(r["seed"]))
    train_alone += json.load(open(os.path.join(d, "metrics.json")))["train_seconds"]
    if sha(os.path.join(work, "exp", r["dir"], "model.safetensors")) != sha(os.path.join(d, "model.safetensors")):
        sys.exit("seed %d: the experiment's model differs from the run trained alone" % r["seed"])
n = len(e["runs"])
print("%d runs, every model identical to the run trained alone" % n)
print("experiment wall time:                     %7.1f s" % experiment)
print("sum of the runs alone (cifarnet train):   %7.1f s  ratio %.3f (target <= 1.1)" % (alone, experiment / alone))
print("sum of their train_seconds alone:         %7.1f s  ratio %.3f" % (train_alone, experiment / train_alone))
PY

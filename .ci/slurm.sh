#!/usr/bin/env bash
# CI: a real one-node Slurm cluster (Debian's slurm-wlm and munge, started
# as root with everything under a temporary directory) runs a small
# experiment as a job array (2 configurations x 3 seeds x 3 epochs, 3
# shards), collects it, and checks that its statistics are identical to the
# same experiment run locally. The daemons are stopped on exit.
# Usage: bash .ci/slurm.sh [path to a built cifarnet]
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(cd "${CIFARNET_SLURM_DATA:-../shared/cifar-10-batches-bin}" && pwd)
T=$(mktemp -d /tmp/cifarnet-slurm.XXXXXX)
chmod 755 "$T"
bin=${1:-}
if [ -z "$bin" ]; then bin=$T/cifarnet; go build -o "$bin" ./cmd/cifarnet; fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.2; done; done
  rm -rf "$T"
}
trap stop EXIT

host=$(hostname -s)
mkdir -p "$T/state" "$T/spool" "$T/munge"
chmod 700 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
munged --force --key-file="$T/munge/munge.key" --socket="$T/munge/munge.sock" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/munge/munged.log" --seed-file="$T/munge/seed"
for _ in $(seq 50); do [ -s "$T/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$T/munge/munged.pid")")

cat > "$T/slurm.conf" <<CONF
ClusterName=cifarnet-ci
SlurmctldHost=$host
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.sock
SlurmUser=root
SlurmdUser=root
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
NodeName=$host CPUs=$(nproc) RealMemory=$(( $(awk '/MemTotal/{print $2}' /proc/meminfo) / 2048 )) State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$T/slurm.conf
slurmctld
for _ in $(seq 100); do [ -s "$T/slurmctld.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$T/slurmctld.pid")")
slurmd
for _ in $(seq 100); do [ -s "$T/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$T/slurmd.pid")")
for _ in $(seq 100); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo

flags=(--seeds 0-2 --grid activation=elu,relu --epochs 3 --train-samples 1000 --test-samples 200 --data "$data")
"$bin" experiment slurm "${flags[@]}" --dir "$T/slurm-exp" --shards 3 --cpus-per-task 1 --mem 500M --submit --wait
"$bin" experiment collect "$T/slurm-exp" > "$T/collect.txt"
"$bin" experiment "${flags[@]}" --dir "$T/local-exp" -q > "$T/local.txt"
cat "$T/collect.txt"
# The same statistics and the same runs (runs.csv without its seconds).
python3 - "$T/slurm-exp" "$T/local-exp" <<'PY'
import json, sys
a, b = (json.load(open(d + "/experiment.json")) for d in sys.argv[1:3])
assert a["statistics"] == b["statistics"], "statistics differ between Slurm and local"
key = lambda r: (r["config"], r["seed"], r["dir"], r["status"], r["test_accuracy"], r["test_loss"], r["epochs_run"])
assert [key(r) for r in a["runs"]] == [key(r) for r in b["runs"]], "runs differ"
assert all(r["status"] == "finished" for r in a["runs"]) and len(a["runs"]) == 6
print("slurm: 6 runs in 3 array tasks, statistics identical to the local experiment")
PY
ls "$T/slurm-exp/slurm/"

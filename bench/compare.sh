#!/usr/bin/env bash
# Side-by-side speed of cifarnet, OpenBLAS and PyTorch on this machine, in
# one run (these machines are shared and noisy: compare ratios taken
# together). Needs Debian's libopenblas-dev for the OpenBLAS part and
# python3-torch for the PyTorch part; each part is skipped when missing.
#
# usage: bench/compare.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/cifar-10-batches-bin}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/cifarnet" ./cmd/cifarnet

echo "== machine"
grep -m1 "model name" /proc/cpuinfo || true
echo "cores: $(nproc)   go: $(go version | cut -d' ' -f3)"

echo
echo "== matrix products: OpenBLAS cblas_sgemm vs cifarnet Gemm (best of 15x10 calls)"
if [ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] || [ -e /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ]; then
  CGO_CFLAGS="-I/usr/include/x86_64-linux-gnu/openblas-pthread" go run -tags openblas ./bench/openblas
else
  echo "(skipped: apt-get install libopenblas-dev)"
fi

echo
echo "== one epoch of the exercise (4000 train + 1000 validation), median of 5 after a warm-up"
declare -A ours
for t in 1 2; do
  ours[$t]=$("$tmp/cifarnet" bench --data "$data" --threads $t --epochs 6 | awk '/^median/ {print $2}')
  echo "cifarnet, $t thread(s): ${ours[$t]} ms"
done
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  for t in 1 2; do
    torch_ms=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_epoch.py "$data" $t 6 | awk '{print $4}')
    echo "PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), $t thread(s): $torch_ms ms  -> cifarnet is $(awk -v a="$torch_ms" -v b="${ours[$t]}" 'BEGIN {printf "%.2f", a/b}')x faster"
  done
else
  echo "(PyTorch skipped: apt-get install python3-torch)"
fi

echo
echo "== one epoch over 50,000 images (40,000 train + 10,000 validation; synthetic beyond the data at hand)"
"$tmp/cifarnet" bench --synthetic 50000 --epochs 3 | tail -1

#!/usr/bin/env bash
# Side-by-side speed of cifarnet, OpenBLAS and PyTorch on this machine, in
# one run (these machines are shared and noisy: compare ratios taken
# together). Needs Debian's libopenblas-dev for the OpenBLAS part and
# python3-torch for the PyTorch part; each part is skipped when missing.
#
# usage: bench/compare.sh [DATA_DIR [MNIST_DIR]]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/cifar-10-batches-bin}
mnist=${2:-../shared/mnist}
tmp=$(mktemp -d)
noenv="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/cifarnet" ./cmd/cifarnet

echo "== machine"
grep -m1 "model name" /proc/cpuinfo || true
echo "cores: $(nproc)   go: $(go version | cut -d' ' -f3)"
if command -v gcc >/dev/null; then
  if grep -qw avx512f /proc/cpuinfo; then flags=-mavx512f; else flags="-mavx2 -mfma -DAVX2"; fi
  gcc -O2 $flags -pthread -o "$tmp/fma" bench/peak/fma.c
  for t in 1 $(nproc); do "$tmp/fma" $t; done
fi

echo
echo "== matrix products: OpenBLAS cblas_sgemm vs cifarnet Gemm (best of 15x10 calls)"
if [ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] || [ -e /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ]; then
  # This workplace sets OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) on some
  # CPUs for old OpenBLAS builds; they force slower kernels, so both
  # libraries that use OpenBLAS run here with both unset, and the program
  # prints the core OpenBLAS picks then (it checks its results against ours).
  $noenv CGO_CFLAGS="-I/usr/include/x86_64-linux-gnu/openblas-pthread" go run -tags openblas ./bench/openblas
else
  echo "(skipped: apt-get install libopenblas-dev)"
fi

echo
echo "== one epoch of the exercise (4000 train + 1000 validation), median of 5 after a warm-up"
echo "   three rounds, cifarnet and PyTorch alternating, so both see the same machine"
have_torch=false
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  have_torch=true
  echo "   PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') (Debian's, on OpenBLAS), OPENBLAS_NUM_THREADS=1, torch.set_num_threads(T)"
else
  echo "   (PyTorch skipped: apt-get install python3-torch)"
fi
for round in 1 2 3; do
  for t in 1 2; do
    ours=$("$tmp/cifarnet" bench --data "$data" --threads $t --epochs 6 | awk '/^median/ {print $2}')
    line="round $round, $t thread(s): cifarnet $ours ms"
    if $have_torch; then
      torch_ms=$($noenv OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_epoch.py "$data" $t 6 | awk '{print $4}')
      line="$line, PyTorch $torch_ms ms -> cifarnet is $(awk -v a="$torch_ms" -v b="$ours" 'BEGIN {printf "%.2f", a/b}')x faster"
    fi
    echo "$line"
  done
done

echo
echo "== one epoch over 50,000 images (40,000 train + 10,000 validation; synthetic beyond the data at hand)"
"$tmp/cifarnet" bench --synthetic 50000 --epochs 3 | tail -1

echo
echo "== MNIST: one full epoch (48,000 train + 12,000 validation, 784-256x4-10), median of 3 after a warm-up"
echo "   two rounds, cifarnet and PyTorch alternating"
if [ -d "$mnist" ]; then
  for round in 1 2; do
    for t in 1 2; do
      ours=$("$tmp/cifarnet" bench --dataset mnist --data "$mnist" --train-samples 60000 --threads $t --epochs 4 | awk '/^median/ {print $2}')
      line="round $round, $t thread(s): cifarnet $ours ms"
      if $have_torch; then
        torch_ms=$($noenv OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_epoch.py "$mnist" $t 4 60000 | awk '{print $4}')
        line="$line, PyTorch $torch_ms ms -> cifarnet is $(awk -v a="$torch_ms" -v b="$ours" 'BEGIN {printf "%.2f", a/b}')x faster"
      fi
      echo "$line"
    done
  done
else
  echo "(skipped: no MNIST at $mnist)"
fi

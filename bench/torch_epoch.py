"""Time epochs of the exercise in PyTorch: the same 3072-256x4-10 ELU MLP,
NAdam, batch 128, 4000 training + 1000 validation samples of CIFAR-10; or,
when DATA_DIR holds MNIST's IDX files, the 784-256x4-10 MLP on MNIST.

usage: python3 bench/torch_epoch.py DATA_DIR THREADS [EPOCHS] [TRAIN_SAMPLES]

Prints "torch epoch ms: <median>" (the first epoch, a warm-up, left out).
TRAIN_SAMPLES above the data at hand are filled with random images.
"""
import gzip
import os
import statistics
import sys
import time

import numpy as np
import torch

data_dir, threads = sys.argv[1], int(sys.argv[2])
epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
n = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
torch.set_num_threads(threads)
torch.manual_seed(42)

if os.path.exists(f"{data_dir}/train-images-idx3-ubyte.gz"):
    with gzip.open(f"{data_dir}/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:n].astype(np.float32) / 255
    with gzip.open(f"{data_dir}/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n].astype(np.int64)
else:
    raw = np.fromfile(f"{data_dir}/data_batch_1.bin", dtype=np.uint8).reshape(-1, 3073)[:n]
    x = raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(-1, 3072).astype(np.float32) / 255
    y = raw[:, 0].astype(np.int64)
features = x.shape[1]
if n > len(x):
    rng = np.random.default_rng(0)
    x = np.concatenate([x, rng.random((n - len(x), features), dtype=np.float32)])
    y = np.concatenate([y, rng.integers(0, 10, n - len(y))])
x, y = torch.from_numpy(x), torch.from_numpy(y)
split = int(n * 0.8)
xt, yt, xv, yv = x[:split], y[:split], x[split:], y[split:]

layers, width = [], features
for _ in range(4):
    lin = torch.nn.Linear(width, 256)
    torch.nn.init.kaiming_normal_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    layers += [lin, torch.nn.ELU()]
    width = 256
layers.append(torch.nn.Linear(256, 10))
model = torch.nn.Sequential(*layers)
opt = torch.optim.NAdam(model.parameters(), lr=0.001, eps=1e-7)
loss_fn = torch.nn.CrossEntropyLoss()

times = []
for epoch in range(epochs):
    start = time.perf_counter()
    model.train()
    perm = torch.randperm(split)
    for i in range(0, split, 128):
        idx = perm[i:i + 128]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        for i in range(0, len(xv), 128):
            loss_fn(model(xv[i:i + 128]), yv[i:i + 128])
    times.append((time.perf_counter() - start) * 1000)
print(f"torch epoch ms: {statistics.median(times[1:] or times):.1f}")

"""Load a cifarnet model.safetensors into PyTorch (and, if installed, Keras 3)
and check it on the CIFAR-10 test batch.

usage: python3 docs/load_model.py RUN_DIR DATA_DIR N

Prints one line per framework: "<framework> accuracy A on N test images",
which the Go test TestLoadModelRecipe compares with the run's metrics.json.
Needs numpy; PyTorch and Keras are each used when importable.
"""
import json
import struct
import sys

import numpy as np


def load_safetensors(path):
    """Reads a safetensors file of F32 tensors with numpy alone."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", t["dtype"]
        begin, end = t["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(t["shape"])
    return tensors


def load_test_images(data_dir, n):
    """The first n test images, preprocessed as in training (model.json's
    preprocessing): channels-last, flattened, pixels / 255."""
    raw = np.fromfile(f"{data_dir}/test_batch.bin", dtype=np.uint8, count=n * 3073).reshape(n, 3073)
    labels = raw[:, 0].astype(np.int64)
    images = raw[:, 1:].reshape(n, 3, 32, 32).transpose(0, 2, 3, 1)  # -> (n, 32, 32, 3)
    return images.reshape(n, -1).astype(np.float32) / 255.0, labels


def torch_model(cfg, w):
    import torch

    layers = []
    for layer in cfg["layers"]:
        kernel, bias = w[layer["kernel"]], w[layer["bias"]]  # kernel is [in, out], as Keras's
        lin = torch.nn.Linear(kernel.shape[0], kernel.shape[1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(kernel.T.copy()))  # PyTorch stores [out, in]
            lin.bias.copy_(torch.from_numpy(bias.copy()))
        layers.append(lin)
        act = layer["activation"]
        if act == "softmax":
            layers.append(torch.nn.Softmax(dim=1))
        elif act != "linear":
            layers.append({"elu": torch.nn.ELU(), "relu": torch.nn.ReLU(), "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid()}[act])
    return torch.nn.Sequential(*layers).eval()


def keras_model(cfg, w):
    import keras

    model = keras.Sequential([keras.Input((cfg["architecture"]["inputs"],))] + [
        keras.layers.Dense(layer["units"], activation=layer["activation"], name=layer["name"]) for layer in cfg["layers"]
    ])
    for layer in cfg["layers"]:
        model.get_layer(layer["name"]).set_weights([w[layer["kernel"]], w[layer["bias"]]])
    return model


def main():
    run_dir, data_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    cfg = json.load(open(f"{run_dir}/model.json"))
    w = load_safetensors(f"{run_dir}/model.safetensors")
    x, y = load_test_images(data_dir, n)
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        with torch.no_grad():
            probs = torch_model(cfg, w)(torch.from_numpy(x)).numpy()
        print(f"torch accuracy {np.mean(probs.argmax(1) == y):.4f} on {n} test images")
    try:
        import keras
    except ImportError:
        keras = None
    if keras is not None:
        probs = keras_model(cfg, w).predict(x, verbose=0)
        print(f"keras accuracy {np.mean(probs.argmax(1) == y):.4f} on {n} test images")


if __name__ == "__main__":
    main()

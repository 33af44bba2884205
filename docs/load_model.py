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
    """The model of model.json (Keras's to_json) in PyTorch, for inference:
    Dense, BatchNormalization, Activation, Rescaling, Normalization and
    Flatten; the dropout and noise layers do nothing at inference."""
    import torch

    acts = {"elu": torch.nn.ELU(), "relu": torch.nn.ReLU(), "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid(),
            "selu": torch.nn.SELU(), "gelu": torch.nn.GELU(), "silu": torch.nn.SiLU(), "swish": torch.nn.SiLU(),
            "softmax": torch.nn.Softmax(dim=1), "linear": torch.nn.Identity()}

    class Affine(torch.nn.Module):
        def __init__(self, scale, offset):
            super().__init__()
            self.scale, self.offset = scale, offset

        def forward(self, x):
            return x * self.scale + self.offset

    layers = []
    for layer in cfg["config"]["layers"]:
        kind, c = layer["class_name"], layer["config"]
        name = c["name"]
        if kind == "Dense":
            kernel = w[name + "/kernel"]  # [in, out], as Keras's
            lin = torch.nn.Linear(kernel.shape[0], kernel.shape[1], bias=c.get("use_bias", True))
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(kernel.T.copy()))  # PyTorch stores [out, in]
                if c.get("use_bias", True):
                    lin.bias.copy_(torch.from_numpy(w[name + "/bias"].copy()))
            layers += [lin, acts[c.get("activation", "linear")]]
        elif kind == "Activation":
            layers.append(acts[c["activation"]])
        elif kind == "BatchNormalization":
            n = w[name + "/moving_mean"].shape[0]
            bn = torch.nn.BatchNorm1d(n, eps=c.get("epsilon", 1e-3), affine=False)
            with torch.no_grad():
                bn.running_mean.copy_(torch.from_numpy(w[name + "/moving_mean"].copy()))
                bn.running_var.copy_(torch.from_numpy(w[name + "/moving_variance"].copy()))
            layers.append(bn)
            gamma = torch.from_numpy(w[name + "/gamma"].copy()) if c.get("scale", True) else 1.0
            beta = torch.from_numpy(w[name + "/beta"].copy()) if c.get("center", True) else 0.0
            layers.append(Affine(gamma, beta))
        elif kind == "Rescaling":
            layers.append(Affine(c["scale"], c.get("offset", 0.0)))
        elif kind == "Normalization":
            mean, var = torch.from_numpy(w[name + "/mean"].copy()), torch.from_numpy(w[name + "/variance"].copy())
            layers.append(Affine(1 / torch.clamp(var.sqrt(), min=1e-7), -mean / torch.clamp(var.sqrt(), min=1e-7)))
        elif kind in ("InputLayer", "Flatten", "Dropout", "AlphaDropout", "GaussianNoise", "GaussianDropout"):
            pass
        else:
            raise ValueError(f"layer {name}: {kind} is not in this recipe")
    return torch.nn.Sequential(*layers).eval()


def keras_model(cfg, w):
    """Keras rebuilds the model from model.json itself; the weights go in
    by their names."""
    import keras

    model = keras.models.model_from_json(json.dumps({k: v for k, v in cfg.items() if k != "cifarnet"}))
    for layer in model.layers:
        layer.set_weights([w[layer.name + "/" + v.name] for v in layer.weights])
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

"""Load a cifarnet model.safetensors into PyTorch (and, if installed, Keras 3)
and check it on the CIFAR-10 test batch.

usage: python3 docs/load_model.py RUN_DIR DATA_DIR N

RUN_DIR is a cifarnet run directory (model.json, model.safetensors) of a
CIFAR-10 model, DATA_DIR the directory of test_batch.bin, N how many of the
first test images to check (1 to 10000). Prints one line per framework:
"<framework> accuracy A on N test images", which the Go test
TestLoadModelRecipe compares with the run's metrics.json. With missing or
wrong arguments it prints the usage on stderr and exits with status 2.
Needs numpy; PyTorch and Keras are each used when importable.
"""
import json
import os
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

    class Fn(torch.nn.Module):
        """An elementwise function with no PyTorch module of its own."""

        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return self.f(x)

    # Every activation cifarnet accepts (nn/activation.go), by its Keras 3
    # name, with Keras 3's formula: hard_sigmoid is relu6(x + 3) / 6 (PyTorch's
    # Hardsigmoid), hard_silu x·hard_sigmoid(x) (Hardswish), leaky_relu's
    # negative_slope 0.2, gelu the exact (erf) one and gelu_tanh
    # gelu(approximate=True); softmax and log_softmax act on each row.
    acts = {
        "elu": torch.nn.ELU(), "selu": torch.nn.SELU(), "relu": torch.nn.ReLU(), "relu6": torch.nn.ReLU6(),
        "leaky_relu": torch.nn.LeakyReLU(0.2), "tanh": torch.nn.Tanh(), "sigmoid": torch.nn.Sigmoid(),
        "hard_sigmoid": torch.nn.Hardsigmoid(), "softplus": torch.nn.Softplus(), "softsign": torch.nn.Softsign(),
        "exponential": Fn(torch.exp), "linear": torch.nn.Identity(),
        "gelu": torch.nn.GELU(), "gelu_tanh": torch.nn.GELU(approximate="tanh"),
        "silu": torch.nn.SiLU(), "swish": torch.nn.SiLU(), "mish": torch.nn.Mish(),
        "hard_silu": torch.nn.Hardswish(), "hard_swish": torch.nn.Hardswish(),
        "softmax": torch.nn.Softmax(dim=1), "log_softmax": torch.nn.LogSoftmax(dim=1),
    }

    def act(layer, name):
        if name is None:
            return acts["linear"]
        if name not in acts:
            raise ValueError(f"layer {layer}: activation {name!r} is not in this recipe")
        return acts[name]

    def f32(v):
        return torch.from_numpy(np.array(v, dtype=np.float32))

    class Affine(torch.nn.Module):
        def __init__(self, scale, offset):
            super().__init__()
            self.scale, self.offset = scale, offset

        def forward(self, x):
            return x * self.scale + self.offset

    class Normalize(torch.nn.Module):
        """keras.layers.Normalization: (x - mean) / max(sqrt(variance), 1e-7)."""

        def __init__(self, mean, variance):
            super().__init__()
            self.mean, self.div = mean, torch.clamp(variance.sqrt(), min=1e-7)

        def forward(self, x):
            return (x - self.mean) / self.div

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
            layers += [lin, act(name, c.get("activation", "linear"))]
        elif kind == "Activation":
            layers.append(act(name, c["activation"]))
        elif kind == "BatchNormalization":
            # As Keras (and cifarnet) compute it at inference:
            # x·s + (beta - mean·s) with s = gamma / sqrt(moving_variance + epsilon).
            mean, var = w[name + "/moving_mean"], w[name + "/moving_variance"]
            s = np.float32(1) / np.sqrt(var + np.float32(c.get("epsilon", 1e-3)))
            if c.get("scale", True):
                s = s * w[name + "/gamma"]
            shift = -mean * s
            if c.get("center", True):
                shift = shift + w[name + "/beta"]
            layers.append(Affine(f32(s), f32(shift)))
        elif kind == "Rescaling":
            layers.append(Affine(f32(c["scale"]), f32(c.get("offset", 0.0))))
        elif kind == "Normalization":
            # A mean and variance given in the config (numbers, broadcast
            # over the features, or lists) are constants there and not in
            # the weights; an adapted layer's are in the weights.
            if c.get("mean") is not None:
                mean, var = c["mean"], c["variance"]
            else:
                mean, var = w[name + "/mean"], w[name + "/variance"]
            layers.append(Normalize(f32(mean), f32(var)))
        elif kind in ("InputLayer", "Flatten", "Dropout", "AlphaDropout", "GaussianNoise", "GaussianDropout"):
            pass
        else:
            raise ValueError(f"layer {name}: {kind} is not in this recipe")
    return torch.nn.Sequential(*layers).eval()


def keras_model(cfg, w):
    """Keras rebuilds the model from model.json itself; the weights go in
    by their names."""
    import keras

    # Keras has no name for gelu(approximate=True), cifarnet's gelu_tanh:
    # those layers are built as gelu and then given the approximate one.
    cfg = json.loads(json.dumps({k: v for k, v in cfg.items() if k != "cifarnet"}))
    tanh_gelu = set()
    for layer in cfg["config"]["layers"]:
        if layer["config"].get("activation") == "gelu_tanh":
            layer["config"]["activation"] = "gelu"
            tanh_gelu.add(layer["config"]["name"])
    model = keras.models.model_from_json(json.dumps(cfg))
    for layer in model.layers:
        if layer.name in tanh_gelu:
            layer.activation = lambda x: keras.activations.gelu(x, approximate=True)
        layer.set_weights([w[layer.name + "/" + v.name] for v in layer.weights])
    return model


USAGE = "usage: python3 docs/load_model.py RUN_DIR DATA_DIR N (N: how many CIFAR-10 test images, 1 to 10000)"


def usage(problem=None):
    if problem:
        print(f"load_model.py: {problem}", file=sys.stderr)
    print(USAGE, file=sys.stderr)
    sys.exit(2)


def main():
    if len(sys.argv) != 4:
        usage()
    run_dir, data_dir, n = sys.argv[1:]
    try:
        n = int(n)
    except ValueError:
        n = 0
    if not 1 <= n <= 10000:
        usage(f"N must be a whole number from 1 to 10000, got {sys.argv[3]!r}")
    for path in (f"{run_dir}/model.json", f"{run_dir}/model.safetensors", f"{data_dir}/test_batch.bin"):
        if not os.path.isfile(path):
            usage(f"{path}: no such file")
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

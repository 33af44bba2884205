"""Classify your own images with a model exported by "cifarnet export"
(uint8 input, the default), in ONNX Runtime for Python:

    pip install onnxruntime pillow numpy
    python3 predict.py RUN_DIR/model.onnx IMAGE...

Each image is composited over black where transparent, resized to the
model's input size (bicubic) and, for a gray model, converted to luma, then
passed to the model as uint8 pixels; the three most probable classes are
printed. The Go test TestPythonRecipe (package onnx) runs this file.
"""
import json
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image


def load(name, width, height, channels):
    """The image as uint8 [height, width, channels]."""
    im = Image.open(name).convert("RGBA")
    im = Image.alpha_composite(Image.new("RGBA", im.size, (0, 0, 0, 255)), im).convert("RGB")
    im = im.resize((width, height), Image.BICUBIC)
    if channels == 1:
        im = im.convert("L")
    return np.asarray(im, dtype=np.uint8).reshape(height, width, channels)


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: python3 predict.py MODEL.onnx IMAGE...")
    session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
    classes = json.loads(session.get_modelmeta().custom_metadata_map["class_names"])
    inp = session.get_inputs()[0]
    if inp.type != "tensor(uint8)":
        sys.exit("%s takes %s: export it with --input uint8 (the default)" % (sys.argv[1], inp.type))
    height, width, channels = inp.shape[1:]  # [batch, height, width, channels]
    files = sys.argv[2:]
    x = np.stack([load(f, width, height, channels) for f in files])
    probs = session.run(None, {inp.name: x})[0]  # [images, classes]
    for name, p in zip(files, probs):
        best = np.argsort(-p, kind="stable")[:3]
        print("%s: %s" % (name, ", ".join("%s %.4f" % (classes[i], p[i]) for i in best)))


if __name__ == "__main__":
    main()

"""A stand-in for the onnxruntime Python package, for the tests of the
Python recipe on machines without it (no PyPI): InferenceSession reads the
model with the onnx package and runs it in ONNX Runtime for Node.js
(onnx/ort/run.js), so the computation is ONNX Runtime's. Only what
docs/onnx/predict.py uses is here.
"""
import json
import os
import subprocess
import tempfile

import numpy as np
import onnx

_RUN_JS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "ort", "run.js")
_TYPES = {onnx.TensorProto.FLOAT: "float", onnx.TensorProto.UINT8: "uint8"}


class NodeArg:
    def __init__(self, vi):
        t = vi.type.tensor_type
        self.name = vi.name
        self.type = "tensor(%s)" % _TYPES[t.elem_type]
        self.shape = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in t.shape.dim]


class ModelMetadata:
    def __init__(self, model):
        self.custom_metadata_map = {p.key: p.value for p in model.metadata_props}


class InferenceSession:
    def __init__(self, path, providers=None):
        self._path = path
        self._model = onnx.load(path)

    def get_inputs(self):
        return [NodeArg(v) for v in self._model.graph.input]

    def get_outputs(self):
        return [NodeArg(v) for v in self._model.graph.output]

    def get_modelmeta(self):
        return ModelMetadata(self._model)

    def run(self, output_names, feeds):
        ((_, x),) = feeds.items()
        x = np.ascontiguousarray(x)
        kind = {np.dtype(np.uint8): "uint8", np.dtype(np.float32): "float32"}[x.dtype]
        with tempfile.TemporaryDirectory() as d:
            x.tofile(os.path.join(d, "in.bin"))
            out = subprocess.run(["node", _RUN_JS, os.path.join(d, "in.bin"), kind, ",".join(map(str, x.shape)), d, self._path],
                                 check=True, capture_output=True, text=True).stdout
            info = json.loads(out.splitlines()[0])
            data = np.fromfile(os.path.join(d, "0.bin"), dtype="<f4")
        outs, at = [], 0
        for dims in info["dims"]:
            n = int(np.prod(dims))
            outs.append(data[at:at + n].reshape(dims))
            at += n
        return outs

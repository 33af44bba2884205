// Runs ONNX models in ONNX Runtime for Node.js on one batch read from a raw
// file, for the tests of package onnx:
//
//   node run.js INPUT.bin uint8|float32 DIM,DIM,... OUTDIR MODEL.onnx...
//
// INPUT.bin holds the batch in row-major order (uint8 bytes, or float32
// little-endian). For the i-th model, OUTDIR/i.bin receives every output,
// in the session's order, as float32 little-endian, one after the other,
// and one JSON line on stdout describes the session and the outputs.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [inFile, type, dims, outDir, ...models] = process.argv.slice(2);
  const buf = fs.readFileSync(inFile);
  const bytes = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  const data = type === 'uint8' ? new Uint8Array(bytes) : new Float32Array(bytes);
  const input = new ort.Tensor(type, data, dims.split(',').map(Number));
  for (const [i, model] of models.entries()) {
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    const results = await session.run({ [session.inputNames[0]]: input });
    const outs = session.outputNames.map((name) => results[name]);
    fs.writeFileSync(path.join(outDir, i + '.bin'),
      Buffer.concat(outs.map((o) => Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength))));
    console.log(JSON.stringify({
      version: ort.env.versions ? ort.env.versions.node : 'unknown',
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      types: outs.map((o) => o.type),
      dims: outs.map((o) => o.dims),
    }));
  }
}

main().catch((e) => { console.error(String(e && e.message || e).split('\n')[0]); process.exit(1); });

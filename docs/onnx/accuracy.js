// Runs a model exported by "cifarnet export" in ONNX Runtime for Node.js on
// the first N CIFAR-10 test images and prints its accuracy:
//
//   npm install onnxruntime-node
//   node accuracy.js RUN_DIR/model.onnx cifar-10-batches-bin [N]
//
// Works with both inputs of the exported model (uint8 images or float32
// features). The Go test TestExportTheExercise runs this file.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [model, dataDir, nArg] = process.argv.slice(2);
  const n = Number(nArg || 1000);
  if (!model || !dataDir || !(n >= 1 && n <= 10000)) {
    throw new Error('usage: node accuracy.js MODEL.onnx CIFAR_DIR [N (1-10000)]');
  }
  // A record of test_batch.bin: the label byte, then the 1024 red, 1024
  // green and 1024 blue bytes of a 32x32 image. The model wants images as
  // [height, width, channels]: the colours of each pixel together.
  const raw = fs.readFileSync(path.join(dataDir, 'test_batch.bin'));
  const pixels = new Uint8Array(n * 3072);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rec = raw.subarray(i * 3073, (i + 1) * 3073);
    labels[i] = rec[0];
    for (let p = 0; p < 1024; p++) {
      for (let c = 0; c < 3; c++) pixels[i * 3072 + p * 3 + c] = rec[1 + c * 1024 + p];
    }
  }

  const session = await ort.InferenceSession.create(model);
  const name = session.inputNames[0];
  // --input uint8 takes the pixels as they are; --input float32 takes them
  // flattened and divided by 255. (session.inputMetadata, which tells
  // which, is new in onnxruntime-node 1.22: older versions try uint8.)
  const meta = session.inputMetadata && session.inputMetadata[0];
  const uint8 = new ort.Tensor('uint8', pixels, [n, 32, 32, 3]);
  const float32 = () => new ort.Tensor('float32', Float32Array.from(pixels, (v) => v / 255), [n, 3072]);
  let results;
  if (meta) {
    results = await session.run({ [name]: meta.type === 'uint8' ? uint8 : float32() });
  } else {
    try {
      results = await session.run({ [name]: uint8 });
    } catch (e) {
      results = await session.run({ [name]: float32() });
    }
  }
  const out = results[session.outputNames[0]];
  const classes = out.dims[1];
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = out.data.subarray(i * classes, (i + 1) * classes);
    let best = 0;
    for (let j = 1; j < classes; j++) if (row[j] > row[best]) best = j;
    if (best === labels[i]) correct++;
  }
  console.log(`ONNX Runtime accuracy ${(correct / n).toFixed(4)} on ${n} test images`);
}

main().catch((e) => { console.error(String(e.message || e)); process.exit(1); });

// onnxruntime-web (wasm backend, one thread, SIMD) on the same ONNX file. Inputs are token ids computed by our
// tokenizer (examples/encode.rs), so ORT does no tokenization at all: a conservative comparison for us. run.mjs gives
// them padded to 128, or trimmed to the real tokens (no trailing [PAD]) for the model's padding-invariant runs.
import * as ort from '/ort/ort.wasm.min.mjs';
import { install } from './common.js';

ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
ort.env.wasm.wasmPaths = '/ort/';
let session;
// Rows of one batch are padded with [PAD]=0 to the longest (all are 128 long unless the page was given trimmed ids).
const tensor = (rows) => {
  const width = Math.max(...rows.map((r) => r.length));
  const flat = new BigInt64Array(rows.length * width);
  rows.forEach((r, i) => r.forEach((x, j) => (flat[i * width + j] = BigInt(x))));
  return new ort.Tensor('int64', flat, [rows.length, width]);
};

install({
  async setup() {
    const bytes = new Uint8Array(await (await fetch('/models/model.onnx')).arrayBuffer());
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  },
  one: (input) => session.run({ input_ids: tensor([input.ids]) }),
  batch: (inputs) => session.run({ input_ids: tensor(inputs.map((x) => x.ids)) }),
  async outputs(input) {
    const r = await session.run({ input_ids: tensor([input.ids]) });
    return [...r.sentiment.data, ...r.personality.data, ...r.relationship.data];
  },
});
document.title = 'ready';

// onnxruntime-web (wasm backend, one thread, SIMD) on the same ONNX file. Inputs are token ids computed by our
// tokenizer (examples/encode.rs), so ORT does no tokenization at all: a conservative comparison for us.
import * as ort from '/ort/ort.wasm.min.mjs';
import { install } from './common.js';

ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
ort.env.wasm.wasmPaths = '/ort/';
let session;
const tensor = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), (x) => BigInt(x)), [rows.length, 128]);

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

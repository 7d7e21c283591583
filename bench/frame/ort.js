// onnxruntime-web (wasm, 1 thread, SIMD) given the same start and play as ours (bench/model/cold-ort.js's setup):
// the model file is fetched the first time and kept in IndexedDB; ?proxy=1 sets env.wasm.proxy (inference in
// ORT's own worker). Inputs are token ids from our tokenizer (examples/encode.rs); ORT has no generate().
import * as ort from '/ort/ort.wasm.min.mjs';
import { longTasks, play, sleep } from './common.js';

const q = new URLSearchParams(location.search);
const SETTLE_MS = Number(q.get('settle') ?? 2000);
ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;
ort.env.wasm.proxy = q.get('proxy') === '1';
ort.env.wasm.wasmPaths = '/ort/';

function idb(mode, fn) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('ort-frame', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('kv');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('kv', mode);
      const req = fn(tx.objectStore('kv'));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    };
  });
}

const tensor = (ids) => new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);

(async () => {
  let bytes = await idb('readonly', (s) => s.get('model'));
  let modelFrom = 'indexedDb';
  if (!bytes) {
    bytes = new Uint8Array(await (await fetch('/models/model.onnx')).arrayBuffer());
    await idb('readwrite', (s) => s.put(bytes, 'model'));
    modelFrom = 'network';
  }
  const ids = await (await fetch('/ort/ids.json')).json();
  const tModel = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const tCreate = performance.now();
  const r = await session.run({ input_ids: tensor(ids[0]) });
  const p = r.sentiment.data;
  const label = ['negative', 'neutral', 'positive'][p.indexOf(Math.max(...p))];
  const tFirst = performance.now();
  await sleep(SETTLE_MS);
  window.startResult = {
    firstMs: tFirst,
    phases: { init: tModel, create: tCreate - tModel, first: tFirst - tCreate },
    modelFrom,
    label,
    longTasks: longTasks(0, performance.now()),
  };
  // `lines` are indexes into ids (the page has the ids, the runner the texts).
  window.play = ({ analyses, lines }) => play({
    analyses,
    generates: 0,
    lines,
    analyze: (i) => session.run({ input_ids: tensor(ids[1 + (i % (ids.length - 1))]) }),
    generate: null,
  });
  document.title = 'done';
})().catch((e) => {
  window.startResult = { error: `${e?.name}: ${e?.message}` };
  document.title = 'done';
});

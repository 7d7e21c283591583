// Our runtime through its public JS API. Inputs are texts: tokenization is inside every timed call.
import init, { UnwrittenAI } from 'unwritten-ai';
import { install } from './common.js';

let ai;
install({
  async setup() {
    await init();
    ai = await UnwrittenAI.create({
      // On this thread, as onnxruntime-web runs here: the engines are compared, not a worker's round trip.
      worker: false,
      namespace: 'bench',
      storage: { indexedDb: false },
      // ?manifest=/models-128/manifest.json: the same model with paddingInvariant off (every analysis runs 128 ids).
      model: { strategy: 'bundled', manifestUrl: new URLSearchParams(location.search).get('manifest') || '/models/manifest.json' },
    });
    const status = ai.modelStatus();
    if (status.state !== 'ready') throw new Error(`model not ready: ${status.error}`);
  },
  one: (input) => ai.analyze(input.text),
  batch: (inputs) => ai.analyzeBatch(inputs.map((x) => x.text)),
  async outputs(input) {
    const a = await ai.analyze(input.text);
    return [...a.sentiment.probs, ...a.personality, a.relationship];
  },
});
document.title = 'ready';

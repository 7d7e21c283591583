// Cold/warm start as a player meets it: from navigation to the first analysis on screen. The model comes from
// the network the first time and from IndexedDB after that.
import init, { UnwrittenAI } from 'unwritten-ai';

(async () => {
  const t0 = performance.now();
  await init();
  const tInit = performance.now();
  const ai = await UnwrittenAI.create({
    worker: false, // on this thread, as the onnxruntime-web page; bench/frame measures the worker
    namespace: 'bench-cold',
    model: { strategy: 'bundled', manifestUrl: '/models/manifest.json' },
  });
  const tCreate = performance.now();
  const a = await ai.analyze('Well met, traveller. What brings you to my forge?');
  const s = ai.modelStatus();
  const end = performance.now();
  // Where the time went: script start -> wasm fetched and compiled -> model fetched (or read from IndexedDB),
  // verified, parsed and optimised -> first analysis.
  const phases = { script: t0, wasm: tInit - t0, model: tCreate - tInit, first: end - tCreate, modelRead: s.readMs, modelBuild: s.buildMs, runtimeStart: ai.metrics().startMs };
  window.coldResult = { firstResultMs: end, phases, modelFrom: s.origin, state: s.state, label: a.sentiment.label };
  // A player's session after the start: analyses one after another for `ms`; resolves to how many ran.
  window.play = async (ms) => {
    const lines = ['Thank you, friend.', 'Get out of my sight, you filthy thief!', 'How much for the sword?', 'I miss her every day.'];
    let n = 0;
    for (const stop = performance.now() + ms; performance.now() < stop; n++) await ai.analyze(`${lines[n % lines.length]} (${n})`);
    return n;
  };
  document.title = 'done';
})().catch((e) => { window.coldResult = { error: String(e) }; document.title = 'done'; });

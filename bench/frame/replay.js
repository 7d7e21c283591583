// One session trace (tests/traces/, issue 19) replayed in real time through the package's facade, as a game would
// drive it: each `observe` event to ai.observe(), each `generate` request to ai.generate() at its timestamp, with the
// real model, the real cache tiers and the real idle loop; the cloud is the mock cloud at the design's latency.
// ?trace=explorer.jsonl&pregen=1|0&cloud=URL. Reports what tests/replay.rs reports for the same trace.
import init, * as pkg from 'unwritten-ai';
import { sleep } from './common.js';

const q = new URLSearchParams(location.search);
const CACHED = new Set(['memory', 'localStorage', 'indexedDb']);

(async () => {
  await init();
  const text = await (await fetch(`/traces/${q.get('trace')}`)).text();
  const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const events = lines.filter((e) => e.t !== undefined);
  const on = q.get('pregen') === '1';
  const ai = await pkg.UnwrittenAI.create({
    namespace: `replay${on ? 'on' : 'off'}`,
    cloud: { providers: { gateway: { kind: 'openai', baseUrl: q.get('cloud') } } },
    pregen: { enabled: on },
  });
  await ai.loadModel();
  for (let i = 0; i < 200 && ai.modelStatus().responseBank !== 'ready'; i++) await sleep(100);
  const calls = [];
  const origins = new Map();
  const pending = [];
  const t0 = performance.now();
  for (const e of events) {
    const wait = e.t - (performance.now() - t0);
    if (wait > 0) await sleep(wait);
    if (e.observe) ai.observe(e.observe);
    if (e.generate) {
      const req = e.generate;
      // The same request is the same line (the trace writes each moment's request in one form).
      const key = JSON.stringify(req);
      const started = performance.now();
      pending.push(ai.generate(req).then((r) => {
        const cached = CACHED.has(r.source);
        if (!cached) origins.set(key, r.source);
        // A hit on a line made ahead of time: local unless pre-generation used the cloud (counted below).
        const origin = cached ? origins.get(key) ?? 'pregen' : r.source;
        calls.push({ cached, origin, costUsd: r.costUsd ?? 0, ms: performance.now() - started });
      }));
    }
  }
  await Promise.all(pending);
  const p = (await ai.refreshDevice()).pregen;
  window.result = { calls, pregen: p, ms: performance.now() - t0 };
  document.title = 'done';
})().catch((e) => {
  window.result = { error: `${e?.name}: ${e?.message}` };
  document.title = 'done';
});

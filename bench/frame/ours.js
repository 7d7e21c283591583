// Our runtime through its public API, as a game starts it: import, create with the bundled model, first
// analysis; then (window.play) 200 analyses and 50 generate() calls, one per frame, against the mock cloud.
// ?worker=1 / ?worker=0 passes `worker: true/false` (absent: the option is not passed, for packages without it).
import init, * as pkg from 'unwritten-ai';
import { FIRST, longTasks, play, sleep } from './common.js';

const q = new URLSearchParams(location.search);
const SETTLE_MS = Number(q.get('settle') ?? 2000);

(async () => {
  await init();
  const tInit = performance.now();
  const config = {
    namespace: 'frame',
    model: { strategy: 'bundled' },
    cloud: { providers: { gateway: { kind: 'openai', baseUrl: q.get('cloud') } }, localTimeoutMs: 2000 },
  };
  if (q.has('worker')) config.worker = q.get('worker') === '1';
  const ai = await pkg.UnwrittenAI.create(config);
  const tCreate = performance.now();
  const first = await ai.analyze(FIRST);
  const tFirst = performance.now();
  const status = ai.modelStatus();
  const boot = pkg.__bootMarks?.(ai);
  // Start-up work goes on after the first result (the response bank, records written): count its long tasks too.
  await sleep(SETTLE_MS);
  window.startResult = {
    firstMs: tFirst,
    phases: { init: tInit, create: tCreate - tInit, first: tFirst - tCreate },
    modelFrom: status.origin,
    model: { readMs: status.readMs, buildMs: status.buildMs },
    // Worker mode: when each step of the start ended (ms from navigation), to place the long tasks.
    marks: boot === undefined ? undefined : { init: tInit, ...boot, created: tCreate, first: tFirst },
    label: first.sentiment.label,
    longTasks: longTasks(0, performance.now()),
  };
  window.play = async ({ analyses, generates, lines }) => {
    const sources = {};
    const out = await play({
      analyses,
      generates,
      lines,
      analyze: (text) => ai.analyze(text),
      generate: (i) => ai.generate({
        type: 'dialogue',
        npc: { id: 'bram', name: 'Bram', personality: 'gruff, loyal' },
        // A new line each time, so every call goes past the cache to the (mock) cloud.
        context: { playerText: `${lines[i % lines.length]} (${i})`, scene: 'the forge' },
        importance: 0.8,
      }).then((r) => {
        sources[r.source] = (sources[r.source] ?? 0) + 1;
      }),
    });
    // What the worker adds to a call: bare round trips (no runtime work), timed one after another.
    let roundTrip = null;
    if (pkg.__roundTrip?.(ai)) {
      const times = [];
      for (let i = 0; i < 200; i++) {
        const s = performance.now();
        await pkg.__roundTrip(ai);
        times.push(performance.now() - s);
      }
      times.sort((x, y) => x - y);
      // And one per frame, as a game's calls come: the worker's thread has gone to sleep in between.
      const framed = [];
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => requestAnimationFrame(r));
        const s = performance.now();
        await pkg.__roundTrip(ai);
        framed.push(performance.now() - s);
      }
      framed.sort((x, y) => x - y);
      // And 16 ms apart from a plain task: the same sleeping worker, without the frame's rendering steps that a
      // reply to a call made in requestAnimationFrame waits behind on this thread.
      const spaced = [];
      for (let i = 0; i < 100; i++) {
        await sleep(16);
        const s = performance.now();
        await pkg.__roundTrip(ai);
        spaced.push(performance.now() - s);
      }
      spaced.sort((x, y) => x - y);
      roundTrip = { p50: times[100], p95: times[190], framedP50: framed[50], framedP95: framed[95], spacedP50: spaced[50], spacedP95: spaced[95] };
    }
    return { ...out, sources, roundTrip };
  };
  document.title = 'done';
})().catch((e) => {
  window.startResult = { error: `${e?.name}: ${e?.message}` };
  document.title = 'done';
});

// Pre-generation's cost while the player idles (issue 19): a game's page creates the runtime with the bundled
// model and default config, tells it a scene with three characters nearby and two past conversations, then leaves
// the player idle for `idle` seconds. It reports the loop's own figures (metrics().pregen), the main thread's long
// tasks and late frames over the idle time. ?worker=1 / ?worker=0 as the frame page.
import init, * as pkg from 'unwritten-ai';
import { longTasks, sleep } from './common.js';

const q = new URLSearchParams(location.search);
const IDLE_S = Number(q.get('idle') ?? 60);
const ann = { id: 'ann', name: 'Ann', personality: 'cheerful baker' };
const bram = { id: 'bram', name: 'Bram', personality: 'gruff, loyal' };

(async () => {
  await init();
  const config = { namespace: `idle-${q.get('worker') ?? 'x'}`, model: { strategy: 'bundled' } };
  if (q.has('worker')) config.worker = q.get('worker') === '1';
  const ai = await pkg.UnwrittenAI.create(config);
  for (let i = 0; i < 200 && ai.modelStatus().responseBank !== 'ready'; i++) await sleep(100);
  ai.observe({ type: 'scene', scene: 'the square' });
  ai.observe({ type: 'clock', hour: 8 });
  ai.observe({ type: 'conversation', character: ann, responseType: 'greeting', topic: 'Morning!' });
  ai.observe({ type: 'conversation', character: bram, responseType: 'dialogue', topic: 'the forge' });
  ai.observe({ type: 'charactersNearby', characters: [{ ...ann, distance: 20 }, { ...bram, distance: 45 }, { id: 'cora', name: 'Cora', distance: 80 }] });
  ai.observe({ type: 'input' });
  const from = performance.now();
  const before = ai.metrics().pregen;
  // The frames a game would draw meanwhile: a gap over 25 ms is a late frame.
  let late = 0;
  let last = performance.now();
  let running = true;
  const frame = (t) => {
    if (t - last > 25) late += 1;
    last = t;
    if (running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  await sleep(IDLE_S * 1000);
  running = false;
  const p = (await ai.refreshDevice()).pregen;
  window.result = {
    idleS: IDLE_S,
    before: { cpuMs: before.cpuMs, idleMs: before.idleMs },
    pregen: p,
    longTasks: longTasks(from, performance.now()),
    lateFrames: late,
  };
  document.title = 'done';
})().catch((e) => {
  window.result = { error: `${e?.name}: ${e?.message}` };
  document.title = 'done';
});

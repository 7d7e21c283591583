// Cold/warm start as a player meets it: from navigation to the first analysis on screen. The model comes from
// the network the first time and from IndexedDB after that.
import init, { UnwrittenAI } from 'unwritten-ai';

(async () => {
  await init();
  const ai = await UnwrittenAI.create({
    namespace: 'bench-cold',
    model: { strategy: 'bundled', manifestUrl: '/models/manifest.json' },
  });
  const a = await ai.analyze('Well met, traveller. What brings you to my forge?');
  const s = ai.modelStatus();
  window.coldResult = { firstResultMs: performance.now(), modelFrom: s.origin, state: s.state, label: a.sentiment.label };
  document.title = 'done';
})().catch((e) => { window.coldResult = { error: String(e) }; document.title = 'done'; });

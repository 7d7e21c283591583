// The real model through the public API (tests/browser_model.rs): loadModel with progress, analyze and
// analyzeBatch, a model kept in IndexedDB for the next start, the response bank behind the local step, and loads
// that fail (a file that fails its check, a stalled server) without taking the runtime down.
import type { ModelStatus, UnwrittenAI } from 'unwritten-ai';
import { type Case, ENV, forget } from './harness';

const HOSTILE = 'Get out of my sight, you filthy thief';
const settled = (t: { until: Function }, ai: UnwrittenAI, key: keyof ModelStatus, done: string[]) =>
  (t.until as <V>(r: () => V, d: (v: V) => boolean, ms?: number) => Promise<V>)(
    () => ai.modelStatus()[key] as string,
    (v) => done.includes(v),
    20_000,
  );

export const MODEL: Case[] = [
  {
    name: 'model: loadModel reports progress; analyze; the next start reads the model from IndexedDB',
    async run(t) {
      await forget(t.ns());
      const ai = await t.create({ namespace: t.ns(), model: t.model() });
      t.eq(ai.modelStatus().state, 'idle', 'onDemand waits');
      const progress: [number, number | null][] = [];
      const status = await ai.loadModel(((loaded: number, total: number | null) => progress.push([loaded, total])) as never);
      t.eq([status.state, status.origin], ['ready', 'network'], 'loaded from the network');
      t.ok(progress.length >= 2, `progress calls ${progress.length}`);
      const [loaded, total] = progress[progress.length - 1];
      t.eq(loaded, total, 'progress ends at the total');
      const a = await ai.analyze(HOSTILE);
      t.eq(a.sentiment.label, 'negative', 'label');
      t.eq([a.sentiment.probs.length, a.personality.length], [3, 5], 'probs and traits');
      t.ok(a.relationship < 0 && typeof a.latencyMs === 'number', `relationship ${a.relationship}`);
      ai.dispose();
      const again = await t.create({ namespace: t.ns(), model: t.model() });
      t.eq((await again.loadModel()).origin, 'indexedDb', 'from IndexedDB after a restart');
      t.eq(await settled(t, again, 'update', ['current', 'updated', 'refused', 'failed']), 'current', 'the background check');
    },
  },
  {
    name: 'model: bundled is ready when create resolves; analyzeBatch keeps order; long text is truncated',
    async run(t) {
      await forget(t.ns());
      const ai = await t.create({ namespace: t.ns(), model: t.model({ strategy: 'bundled' }) });
      t.eq(ai.metrics().model.state, 'ready', 'ready at create');
      const out = await ai.analyzeBatch(['Thank you, friend!', '', 'I will destroy you.']);
      t.eq([out.length, out[0].sentiment.label, out[2].sentiment.label], [3, 'positive', 'negative'], 'batch');
      t.eq((await ai.analyze('word '.repeat(5000))).truncated, true, 'truncated');
      const all = await Promise.all(['Hello!', 'You again?', 'I love this place.', 'Leave now.'].map((s) => ai.analyze(s)));
      t.eq(all.length, 4, 'concurrent calls all answer');
    },
  },
  {
    name: 'model: bad input is InvalidRequest; cloudOnly is ModelNotReady',
    async run(t) {
      const ai = await t.create({ namespace: t.ns(), model: t.model({ strategy: 'cloudOnly' }) });
      await t.rejects(() => ai.analyze(42 as never), 'InvalidRequest', 'analyze(42)', 'text');
      await t.rejects(() => ai.analyzeBatch('x' as never), 'InvalidRequest', 'analyzeBatch("x")');
      await t.rejects(() => ai.analyze('hi'), 'ModelNotReady', 'analyze without a model');
    },
  },
  {
    name: 'model: a file that fails its check is refused and the runtime keeps working',
    async run(t) {
      await forget(t.ns());
      const ai = await t.create({ namespace: t.ns(), model: t.model({ strategy: 'bundled', modelUrl: `${ENV.models}vocab.txt` }) });
      const m = ai.metrics();
      t.eq([m.model.state, m.model.errorName], ['failed', 'ModelIntegrityError'], 'failed on its check');
      await t.rejects(() => ai.loadModel(), 'ModelIntegrityError', 'loadModel()');
      const line = await ai.generate({ npc: { id: 'bram', name: 'Bram' } });
      t.eq(line.source, 'template', 'generate() still answers');
    },
  },
  {
    name: 'model: a bundled create gives up on a stalled model server (ModelLoadError)',
    async run(t) {
      await forget(t.ns());
      const ai = await t.create({
        namespace: t.ns(), model: t.model({ strategy: 'bundled', modelUrl: `${ENV.models}__stall`, stallTimeoutMs: 500 }),
      });
      const m = ai.metrics();
      t.eq([m.model.state, m.model.errorName], ['failed', 'ModelLoadError'], 'failed');
      t.ok((m.model.error ?? '').includes('no data for 500 ms'), m.model.error ?? '');
    },
  },
  {
    name: 'model: the response bank arrives after the model and the local step answers from it',
    async run(t) {
      await forget(t.ns());
      const ai = await t.create({ namespace: t.ns(), model: t.model({ strategy: 'bundled' }) });
      t.eq(await settled(t, ai, 'responseBank', ['ready', 'failed']), 'ready', 'bank');
      const r = await ai.generate({
        type: 'dialogue', npc: { id: 'bram', name: 'Bram', personality: 'kind, warm' },
        context: { playerText: 'Thank you so much, friend!' }, importance: 0.2,
      });
      t.eq(r.source, 'local', `source (${JSON.stringify(r.fallbacks)})`);
      t.ok(r.text.length > 0, 'text');
      const again = await ai.generate({
        type: 'dialogue', npc: { id: 'bram', name: 'Bram', personality: 'kind, warm' },
        context: { playerText: 'Thank you so much, friend!' }, importance: 0.2,
      });
      t.eq([again.source, again.cached, again.text], ['memory', true, r.text], 'the same request from memory');
    },
  },
];

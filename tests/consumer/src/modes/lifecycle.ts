// Model updates published on the model server through its control API (tests/browser_lifecycle.rs): a release
// is found, downloaded with progress events, shadow-checked and swapped, and rolled back on command; a tampered
// one is refused while the current model keeps serving; a staged release reaches only the players in its rollout.
// Each case starts from the base release; the server is shared by the runs, which go one after another.
import type { UnwrittenAI, UnwrittenConfig } from 'unwritten-ai';
import { type Case, type T, ENV, forget, models } from './harness';

async function reset(): Promise<Record<string, any>> {
  await models('__offline', { on: false });
  await models('__unpublish', {});
  return models('live/manifest.json');
}

/** A version `k` patches above the base's. */
function above(base: Record<string, any>, k: number): string {
  const [major, minor, patch] = String(base.version).split(/[-+]/)[0].split('.').map(Number);
  return `${major}.${minor}.${patch + k}`;
}

async function start(t: T, suffix: string, extra: Partial<UnwrittenConfig> = {}): Promise<UnwrittenAI> {
  await forget(t.ns(suffix));
  const ai = await t.create({
    namespace: t.ns(suffix),
    model: t.model({ strategy: 'bundled', manifestUrl: `${ENV.models}live/manifest.json` }),
    ...extra,
  });
  t.eq(ai.modelStatus().state, 'ready', 'started on the live release');
  return ai;
}

const modelEvents = (ai: UnwrittenAI) => ai.takeEvents().filter((e) => e.type.startsWith('model')) as Record<string, any>[];

async function analyzes(t: T, ai: UnwrittenAI): Promise<void> {
  t.eq((await ai.analyze('Get out of my sight, you filthy thief')).sentiment.label, 'negative', 'analyze() answers');
}

/** The rollout hash of the flags docs: fnv1a32(decimal(fnv1a32(key + playerId))) % 10000 < percentage * 100. */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}
const inRollout = (key: string, pct: number, id: string) => fnv(String(fnv(key + id))) % 10000 < pct * 100;

export const LIFECYCLE: Case[] = [
  {
    name: 'lifecycle: a published update downloads with progress, swaps, and rolls back on command',
    async run(t) {
      const base = await reset();
      const ai = await start(t, '');
      modelEvents(ai);
      await t.rejects(() => ai.rollbackModel(), 'ModelNotReady', 'rollbackModel() with no backup');
      const v = above(base, 1);
      await models('__publish', { version: v });
      const s = await ai.checkForModelUpdate();
      t.eq([s.update, s.version, s.backupVersion], ['updated', v, base.version], 'updated');
      const events = modelEvents(ai);
      const kinds = events.map((e) => e.type);
      t.eq(kinds[0], 'modelUpdateAvailable', `first event (${kinds})`);
      // One event per tenth of the bytes received: how many depends on how the body arrives in chunks (a fast
      // loopback may deliver it whole), so only the last one is checked, which always reports all the bytes.
      const progress = events.filter((e) => e.type === 'modelDownloadProgress') as { loaded: number; total: number }[];
      const last = progress[progress.length - 1];
      t.ok(last !== undefined && last.loaded === last.total && last.total > 0, `progress ends at the total (${JSON.stringify(last)})`);
      t.ok(kinds.indexOf('modelShadowResult') > kinds.lastIndexOf('modelDownloadProgress'), `shadow after download (${kinds})`);
      t.eq(kinds[kinds.length - 1], 'modelUpdated', 'last event');
      t.eq(ai.modelStatus().version, v, 'modelStatus() follows');
      await analyzes(t, ai);
      const back = await ai.rollbackModel();
      t.eq(back.version, base.version, 'rolled back to the base');
      const rb = modelEvents(ai).filter((e) => e.type === 'modelRollback');
      t.eq(rb.map((e) => [e.from, e.to, e.reason]), [[v, base.version, 'command']], 'modelRollback event');
      await analyzes(t, ai);
      await reset();
    },
  },
  {
    name: 'lifecycle: a tampered or truncated release is refused; the current model keeps serving',
    async run(t) {
      const base = await reset();
      const ai = await start(t, '');
      modelEvents(ai);
      for (const [k, fault] of [[1, 'sha'], [2, 'truncate']] as const) {
        const v = above(base, k);
        await models('__publish', { version: v, fault });
        const s = await ai.checkForModelUpdate();
        t.eq([s.update, s.updateFailure, s.version], ['failed', 'integrity', base.version], `${fault}: refused`);
        t.ok((s.updateError ?? '').includes(fault === 'sha' ? 'SHA-256' : 'bytes'), `${fault}: ${s.updateError}`);
        const failed = modelEvents(ai).filter((e) => e.type === 'modelUpdateFailed');
        t.eq(failed.map((e) => [e.version, e.reason]), [[v, 'integrity']], `${fault}: one modelUpdateFailed`);
        await analyzes(t, ai);
      }
      await reset();
    },
  },
  {
    name: 'lifecycle: a staged release reaches the players in its rollout; raising it admits the rest',
    async run(t) {
      const base = await reset();
      const v = above(base, 1);
      const key = `${base.name}@${v}`;
      const ids = Array.from({ length: 1000 }, (_, i) => `lc-player-${i}`);
      const inside = ids.find((id) => inRollout(key, 10, id)) as string;
      const outside = ids.find((id) => !inRollout(key, 10, id)) as string;
      const a = await start(t, 'a', { flags: { playerId: inside } });
      const b = await start(t, 'b', { flags: { playerId: outside } });
      modelEvents(a);
      modelEvents(b);
      await models('__publish', { version: v, rollout: 10 });
      t.eq((await a.checkForModelUpdate()).version, v, 'a player inside takes it');
      const s = await b.checkForModelUpdate();
      t.eq([s.update, s.updateRejection, s.version], ['refused', 'outsideRollout', base.version], 'a player outside');
      const failed = modelEvents(b).filter((e) => e.type === 'modelUpdateFailed');
      t.eq(failed.map((e) => [e.reason, e.rejection]), [['refused', 'outsideRollout']], 'told once');
      await models('__publish', { version: v, rollout: 100 });
      t.eq((await b.checkForModelUpdate()).version, v, 'raised to 100: the rest take it');
      const again = await a.checkForModelUpdate();
      t.eq([again.update, again.version], ['current', v], 'those on it are not disturbed');
      await reset();
    },
  },
];

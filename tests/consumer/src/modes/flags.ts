// Flags, experiments and rollouts through the public API (tests/browser_flags.rs): a remote document served by
// the mock cloud's /flags (ETag revalidation, a failing server, the last good copy kept for a new runtime), sticky
// experiment variants with one exposure per session, rollouts, and flags that steer generate() and pre-generation.
import type { FlagsConfig, UnwrittenAI } from 'unwritten-ai';
import { type Case, ENV, mock, resetMock } from './harness';

const noIdb = { indexedDb: false };
const types = (ai: UnwrittenAI) => ai.takeEvents().map((e) => e.type as string);

export const FLAGS: Case[] = [
  {
    name: 'flags: a remote document overrides defaults, is revalidated, and its last good copy survives',
    async run(t) {
      const doc = { flags: { useLocalAi: false, npcMood: 'grim' } };
      await mock('/flags', { doc });
      const flags: FlagsConfig = { url: `${ENV.mock}/flags?for=${t.ns()}`, defaults: { npcMood: 'calm' }, refreshMs: 0 };
      const config = { namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' as const }, flags };
      const a = await t.create(config);
      // The runtime fetches the document at start, in the background: wait for it, so the refreshes below are
      // not racing it (in worker mode its answer can land before or after a refresh this thread sends).
      t.eq(await t.until(() => a.getFlag('npcMood'), (v) => v === 'grim', 5_000), 'grim', 'the start fetch: the remote value beats flags.defaults');
      t.eq(a.isEnabled('useLocalAi'), false, 'the remote false beats the built-in true');
      t.eq(a.getFlag('localAiThreshold'), 0.3, 'a flag the document leaves out keeps its default');
      const before = (await mock('/flags/stats')).notModified;
      t.eq((await a.refreshFlags()).outcome, 'notModified', 'a refresh of the same document');
      t.eq((await mock('/flags/stats')).notModified, before + 1, 'the server answered 304');
      await mock('/flags', { doc, status: 500 });
      t.eq((await a.refreshFlags()).outcome, 'failed', 'a failing server');
      t.eq(a.getFlag('npcMood'), 'grim', 'the last good copy stays');
      a.dispose();
      const b = await t.create(config);
      t.eq(b.getFlag('npcMood'), 'grim', 'a new runtime starts with the kept copy');
      t.eq(b.isEnabled('useLocalAi'), false, 'kept copy: useLocalAi');
      await mock('/flags', { doc: { flags: { npcMood: 'cheerful' } } });
      types(b);
      t.eq((await b.refreshFlags()).outcome, 'updated', 'a changed document');
      t.eq(b.getFlag('npcMood'), 'cheerful', 'the new value');
      t.eq(b.isEnabled('useLocalAi'), true, 'left out of the new document: back to its default');
      t.ok(types(b).includes('flagsChanged'), 'a flagsChanged event');
      await t.rejects(() => b.isEnabled(7 as never), 'InvalidRequest', 'isEnabled(7)');
    },
  },
  {
    name: 'flags: an experiment gives a player one variant in every runtime, one exposure per session',
    async run(t) {
      const flags: FlagsConfig = {
        playerId: 'player-42',
        experiments: { 'greeting-style': { variants: ['formal', 'casual', 'terse'], weights: [0.34, 0.33, 0.33] } },
      };
      const a = await t.create({ namespace: t.ns('a'), storage: noIdb, model: { strategy: 'cloudOnly' }, flags });
      const first = a.variant('greeting-style');
      t.eq([first?.inExperiment, first?.firstExposure], [true, true], 'first assignment');
      const again = a.variant('greeting-style');
      t.eq([again?.variant, again?.firstExposure], [first?.variant, false], 'sticky, exposed once');
      t.eq(types(a).filter((x) => x === 'experimentExposure').length, 1, 'one exposure event');
      const b = await t.create({ namespace: t.ns('b'), storage: noIdb, model: { strategy: 'cloudOnly' }, flags });
      t.eq(b.variant('greeting-style')?.variant, first?.variant, 'the hash alone gives the same variant');
      t.eq(b.variant('no-such-experiment') ?? null, null, 'an unknown experiment');
    },
  },
  {
    name: 'flags: rollouts from the config and from the remote document',
    async run(t) {
      await mock('/flags', { doc: { rollouts: [{ key: 'half-on', percentage: 100 }] } });
      const flags: FlagsConfig = {
        url: `${ENV.mock}/flags?for=${t.ns()}`, refreshMs: 0, playerId: 'player-7',
        rollouts: [{ key: 'all', percentage: 100 }, { key: 'none', percentage: 0 }, { key: 'half-on', percentage: 0 }],
      };
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, flags });
      t.eq([ai.inRollout('all'), ai.inRollout('none'), ai.inRollout('nope') ?? null], [true, false, null], 'config rollouts');
      // The start fetch runs in the background, so the config's 0 % may already be replaced: wait for it.
      t.eq(await t.until(() => ai.inRollout('half-on'), (v) => v === true, 5_000), true,
        "the document's percentage replaces the config's");
      t.eq((await ai.refreshFlags()).outcome, 'notModified', 'a refresh of the same document');
      t.eq(ai.inRollout('half-on'), true, 'still replaced');
    },
  },
  {
    name: 'flags: a remote document turns the cloud and pre-generation off and on without a restart',
    async run(t) {
      await resetMock();
      await mock('/flags', { doc: { flags: { cloudFallback: false, enablePregeneration: false } } });
      const a = await t.create({
        namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud(),
        flags: { url: `${ENV.mock}/flags?for=${t.ns()}`, refreshMs: 0 }, pregen: { gates: { idle: false }, checkIntervalMs: 200 },
      });
      const gate = (d: 'block' | 'pass') => a.metrics().pregen.gates.enabled?.[d] ?? 0;
      const req = (text: string) => ({ npc: { id: 'bram', name: 'Bram' }, context: { playerText: text }, importance: 0.9 });
      t.eq(await t.until(() => a.isEnabled('cloudFallback'), (v) => v === false, 5_000), false, 'the start fetch');
      const off = await a.generate(req('Any work?'));
      t.eq(off.source, 'template', 'cloud off');
      t.ok(JSON.stringify(off.fallbacks).includes('"disabled"'), JSON.stringify(off.fallbacks));
      t.eq((await mock('/__stats')).chat, 0, 'no cloud call');
      const blocked = gate('block');
      t.ok((await t.until(() => gate('block'), (n) => n > blocked, 5_000)) > blocked, 'the loop pauses at its enabled gate');
      await mock('/flags', { doc: { flags: {} } });
      t.eq((await a.refreshFlags()).outcome, 'updated', 'refresh again');
      const on = await a.generate(req('Any news?'));
      t.eq(on.source, 'cloud', 'cloud on again');
      t.eq((await mock('/__stats')).chat, 1, 'one cloud call');
      const passed = gate('pass');
      t.ok((await t.until(() => gate('pass'), (n) => n > passed, 5_000)) > passed, 'the loop works again');
    },
  },
];

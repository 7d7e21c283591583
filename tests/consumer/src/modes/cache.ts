// The response cache through the public API (tests/browser_cache.rs): keys, the three tiers and their importance
// placement, persistence into a new runtime, the memory view on this thread, invalidation and stats.
import type { UnwrittenAI } from 'unwritten-ai';
import { type Case, forget, sleep } from './harness';

const key = (ai: UnwrittenAI, player: string, n: number) =>
  ai.cacheKey({ type: 'greeting', character: `npc-${n}`, player, context: { n } });
const text = (n: number) => `Line number ${n}, kept for the player.`;

export const CACHE: Case[] = [
  {
    name: 'cache: keys validated, put/get/getSync, unicode whole, stats',
    async run(t) {
      const ai = await t.create({ namespace: t.ns() });
      await t.rejects(() => ai.cacheKey({ type: 1, character: 'x' } as never), 'InvalidRequest', 'cacheKey type 1', 'type');
      await t.rejects(() => ai.cacheGet('not-a-key'), 'InvalidRequest', 'cacheGet("not-a-key")');
      const k = key(ai, 'q', 1);
      t.eq(k.length, 41, 'key length');
      t.eq(key(ai, 'q', 1), k, 'the same parts give the same key');
      t.ok(key(ai, 'r', 1) !== k, 'the player is part of the key');
      await t.rejects(() => ai.cachePut(k, 5 as never), 'InvalidRequest', 'cachePut(k, 5)', 'text');
      for (const s of ['ключ 😀 ünïcode', '', text(7)]) {
        await ai.cachePut(k, s, 0.9);
        t.eq(ai.cacheGetSync(k), s, `cacheGetSync after cachePut(${JSON.stringify(s)})`);
      }
      const hit = await ai.cacheGet(k);
      t.eq(hit, { text: text(7), tier: 'memory' }, 'cacheGet');
      t.eq(ai.cacheGetSync(key(ai, 'q', 99)), undefined, 'a miss is undefined');
      const s = ai.cacheStats();
      t.ok(s.hits.memory >= 4, `memory hits ${s.hits.memory}`);
      t.ok(s.syncMisses >= 1, `syncMisses ${s.syncMisses}`);
      t.eq(s.tiers, { localStorage: { state: 'up' }, indexedDb: { state: 'up' } }, 'tiers');
    },
  },
  {
    name: 'cache: importance places entries in tiers; cachePutMany; entries counted',
    async run(t) {
      const ai = await t.create({ namespace: t.ns() });
      await ai.cachePutMany([0, 1, 2].map((n) => ({ key: key(ai, 'q', n), text: text(n) })));
      await ai.cachePut(key(ai, 'q', 3), text(3), 0.9);
      await ai.cachePut(key(ai, 'q', 4), text(4), 0.1);
      const s = ai.cacheStats();
      t.eq(s.entries, { memory: 5, localStorage: 4, indexedDb: 1 }, 'entries per tier (placement by importance)');
      t.eq(ai.cacheGetSync(key(ai, 'q', 1)), text(1), 'cachePutMany entry');
      t.ok(s.compression.rawBytes > 0, `compression ${JSON.stringify(s.compression)}`);
      const ls = Object.keys(localStorage).filter((k) => k.startsWith(`${t.ns()}:`)).length;
      t.ok(ls >= 4, `the page's localStorage holds the records (${ls} keys)`);
      await t.rejects(() => ai.cachePutMany('x' as never), 'InvalidRequest', 'cachePutMany("x")');
    },
  },
  {
    name: 'cache: a new runtime finds what the last one cached (IndexedDB warm, localStorage hit)',
    async run(t) {
      await forget(t.ns());
      const a = await t.create({ namespace: t.ns() });
      const important = key(a, 'p', 1);
      const medium = key(a, 'p', 2);
      await a.cachePut(important, text(1), 0.9);
      await a.cachePut(medium, text(2), 0.5);
      a.dispose();
      await sleep(300);
      const b = await t.create({ namespace: t.ns() });
      t.eq(b.cacheGetSync(important), text(1), 'warmed into memory from IndexedDB');
      t.eq(await b.cacheGet(medium), { text: text(2), tier: 'localStorage' }, 'read from localStorage');
      const m = b.metrics();
      t.eq(m.cache.hits.localStorage, 1, 'localStorage hits');
      t.eq(m.cache.tiers.indexedDb.state, 'up', 'indexedDb up');
      await b.clearCache();
    },
  },
  {
    name: 'cache: memoryCache() serves on this thread, follows eviction, other runtimes, clear and dispose',
    async run(t) {
      const config = { namespace: t.ns(), cache: { memory: { maxEntries: 2 } } };
      const a = await t.create(config);
      const b = await t.create(config);
      const view = a.memoryCache();
      const [k0, k1, k2] = [0, 1, 2].map((n) => key(a, 'p', n));
      t.eq(view.get(k0), undefined, 'empty');
      await a.cachePut(k0, text(0), 0.1);
      await a.cachePut(k1, text(1), 0.1);
      for (let i = 0; i < 3; i++) t.eq(view.get(k0), text(0), 'view.get');
      // Hits served by the view reach the stats with the next call.
      await a.cacheGet(k0);
      t.ok(a.cacheStats().hits.memory >= 4, `hits served by the view are counted (${a.cacheStats().hits.memory})`);
      await a.cachePut(k2, text(2), 0.1);
      t.eq(view.get(k1), undefined, 'the unread entry was evicted');
      t.eq(view.has(k0), true, 'the read one stays');
      t.eq(view.size, 2, 'size');
      await b.cacheInvalidate('p');
      const stale = await t.until(() => view.has(k0), (has) => !has, 5_000);
      t.eq(stale, false, "another runtime's invalidation clears the view");
      const k3 = key(a, 'q', 3);
      await a.cachePut(k3, text(3), 0.1);
      t.eq(view.get(k3), text(3), 'served again');
      await a.clearCache();
      t.eq(view.has(k3), false, 'clearCache empties the view');
      await a.cachePut(k3, text(3), 0.1);
      a.dispose();
      t.eq(view.get(k3), undefined, 'nothing served after dispose');
    },
  },
  {
    name: 'cache: cacheInvalidate(player) removes that player only',
    async run(t) {
      const ai = await t.create({ namespace: t.ns() });
      const mine = key(ai, 'p', 1);
      const other = key(ai, 'o', 1);
      await ai.cachePut(mine, text(1), 0.9);
      await ai.cachePut(other, text(2), 0.9);
      await ai.cacheInvalidate('p');
      t.eq((await ai.cacheGet(mine)) ?? null, null, 'the player\'s line is gone from every tier');
      t.eq((await ai.cacheGet(other))?.text, text(2), 'the other player\'s line is kept');
      t.ok(ai.cacheStats().evictions.invalidated >= 1, 'counted as invalidated');
      await t.rejects(() => ai.cacheInvalidate(42 as never), 'InvalidRequest', 'cacheInvalidate(42)', 'player');
    },
  },
  {
    name: 'cache: clearCache empties every tier',
    async run(t) {
      const ai = await t.create({ namespace: t.ns() });
      const k = key(ai, 'p', 1);
      await ai.cachePut(k, text(1), 0.9);
      await ai.clearCache();
      t.eq(ai.cacheStats().entries, { memory: 0, localStorage: 0, indexedDb: 0 }, 'entries after clearCache');
      t.eq((await ai.cacheGet(k)) ?? null, null, 'not found after clearCache');
    },
  },
];

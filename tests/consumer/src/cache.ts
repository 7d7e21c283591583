// The game's use of the response cache: keys, a line stored for one player and read back from each kind of
// lookup, lines pre-generated for another player, invalidating a player, clearing, and the stats.
import type {
  CacheEntry, CacheHit, CacheKeyParts, CacheStats, MemoryCacheView, UnwrittenAI,
} from 'unwritten-ai';
import type { Report } from './report';

type CacheReport = Pick<
  Report,
  'cacheKey' | 'cachePut' | 'cacheGet' | 'memoryCache' | 'cacheGetSync' | 'cachePutMany' | 'cacheInvalidate' |
  'clearCache' | 'cacheStats'
>;

const BRAM_LINE = 'Back again? The forge is hot.';

function totalEntries(stats: CacheStats): number {
  return stats.entries.memory + stats.entries.localStorage + stats.entries.indexedDb;
}

export async function playWithCache(ai: UnwrittenAI): Promise<CacheReport> {
  // Keys: field order does not matter, every part does.
  const parts: CacheKeyParts = {
    type: 'greeting', character: 'bram', modelVersion: 'm1', player: 'p-1', context: { mood: 'wary', scene: 'forge' },
  };
  const key: string = ai.cacheKey(parts);
  const reordered = ai.cacheKey({
    context: { scene: 'forge', mood: 'wary' }, player: 'p-1', modelVersion: 'm1', character: 'bram', type: 'greeting',
  });
  const otherPlayerKey = ai.cacheKey({ ...parts, player: 'p-2' });

  // An important line: memory, localStorage and IndexedDB.
  const put: Promise<void> = ai.cachePut(key, BRAM_LINE, 0.9);
  await put;
  const hit: CacheHit | undefined = await ai.cacheGet(key);

  // Frame-loop reads: the JS view of the memory tier, and the synchronous lookup through the core.
  const memory: MemoryCacheView = ai.memoryCache();
  const viewText: string | undefined = memory.get(key);
  const viewHas: boolean = memory.has(key);
  const viewSize: number = memory.size;
  const syncText: string | undefined = ai.cacheGetSync(key);
  const syncMiss = ai.cacheGetSync(ai.cacheKey({ ...parts, character: 'nobody' }));

  // Lines pre-generated for another player, in one write.
  const pregenerated: CacheEntry[] = [
    { key: otherPlayerKey, text: 'Mind the sparks, stranger.', importance: 0.8 },
    { key: ai.cacheKey({ ...parts, player: 'p-2', type: 'farewell' }), text: 'Off with you, then.' },
  ];
  await ai.cachePutMany(pregenerated);
  let stored = 0;
  for (const entry of pregenerated) {
    if ((await ai.cacheGet(entry.key))?.text === entry.text) stored += 1;
  }

  // Player p-1 starts a new save: their lines go, p-2's stay.
  await ai.cacheInvalidate('p-1');
  const afterInvalidate = await ai.cacheGet(key);
  const otherPlayer = await ai.cacheGet(otherPlayerKey);
  const viewHasAfterInvalidate = memory.has(key);

  const stats: CacheStats = ai.cacheStats();
  const sameAsMetrics = JSON.stringify(ai.metrics().cache) === JSON.stringify(stats);

  await ai.clearCache();
  const cleared: CacheStats = ai.cacheStats();
  const afterClear = await ai.cacheGet(otherPlayerKey);

  return {
    cacheKey: { length: key.length, orderIrrelevant: key === reordered, playerMatters: key !== otherPlayerKey },
    cachePut: { text: BRAM_LINE },
    cacheGet: { text: hit?.text ?? null, tier: hit?.tier ?? null },
    memoryCache: { text: viewText ?? null, has: viewHas, size: viewSize },
    cacheGetSync: { text: syncText ?? null, missIsUndefined: syncMiss === undefined },
    cachePutMany: { stored },
    cacheInvalidate: {
      lineGone: afterInvalidate === undefined,
      viewHas: viewHasAfterInvalidate,
      otherPlayerKept: otherPlayer !== undefined,
    },
    clearCache: { entriesAfter: totalEntries(cleared), foundAfter: afterClear !== undefined },
    cacheStats: {
      memoryHits: stats.hits.memory,
      misses: stats.misses,
      syncMisses: stats.syncMisses,
      hitRate: stats.hitRate,
      sameAsMetrics,
    },
  };
}

// The cache benchmark page: one case per call of window.runCase(caseName, payloadBytes), each in a fresh browser
// context (run.mjs opens one per case). Engines: our tiers through the JS API vs lru-cache, idb-keyval and raw
// localStorage. Timing is time-based: 1 s of warm-up, then batches until 1.5 s have passed.
// The package under test: target/bench-pkg, or another build given as ?pkg=/target/other-pkg (run.mjs --pkg).
const PKG = new URLSearchParams(location.search).get('pkg') || '/target/bench-pkg';
const { default: init, UnwrittenAI } = await import(`${PKG}/unwritten_ai.js`);
import { LRUCache } from '/node_modules/lru-cache/dist/esm/browser/index.js';
import * as idb from '/node_modules/idb-keyval/dist/index.js';

const WARM_MS = 1000;
const RUN_MS = 1500;

// Realistic NPC lines, varied per key so compression sees text, not repeats of one string.
const LINES = [
  "Ah, traveller! You look like you've walked the whole King's Road in those boots.",
  'The forge has been cold since the miners stopped bringing ore up from the Deepvale shaft.',
  "If you're heading north past the old watchtower, keep an eye out for wolves; they've grown bold this winter.",
  "Bring me three iron ingots and I'll mend that sword of yours for free. What do you say?",
  "My daughter swears she saw lights in the marsh again. I told her it's marsh gas, but I don't believe it myself.",
  'The captain of the guard owes me forty silver and a new pair of tongs. Tell him I said so, if you dare.',
  "Don't trust the merchant with the green hat. His scales are crooked and so is his smile.",
  'I remember when this village had a harvest festival every autumn. Music, dancing, too much cider.',
  'You fought the bandits at the bridge? Then you have my thanks, and a discount, for what it is worth.',
  "The old queen's road is washed out past the mill. Take the ridge path, and mind the loose stones.",
];

let seed = 7;
function rand() {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}

export function npcText(n, bytes) {
  let s = `(${n}) `;
  while (s.length < bytes) s += LINES[Math.floor(rand() * LINES.length)] + ' ';
  return s.slice(0, bytes);
}

function measureSync(fn) {
  let i = 0;
  const warmEnd = performance.now() + WARM_MS;
  while (performance.now() < warmEnd) for (let j = 0; j < 100; j++) fn(i++);
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < RUN_MS) {
    for (let j = 0; j < 100; j++) fn(i++);
    ops += 100;
    t = performance.now();
  }
  return (ops * 1000) / (t - t0);
}

async function measureAsync(fn, opsPerCall = 1) {
  let i = 0;
  const warmEnd = performance.now() + WARM_MS;
  while (performance.now() < warmEnd) await fn(i++);
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < RUN_MS) {
    await fn(i++);
    calls++;
    t = performance.now();
  }
  return (calls * opsPerCall * 1000) / (t - t0);
}

async function runtime(cache, storage) {
  await init();
  return UnwrittenAI.create({ worker: false, namespace: 'bench', storage, ...(cache ? { cache } : {}) });
}

const MEMORY_ONLY = { storage: { localStorage: false, indexedDb: false } };
// Memory off, one persistent tier on: every lookup reaches that tier.
const IDB_ONLY = { storage: { localStorage: false, indexedDb: true }, cache: { memory: { maxEntries: 0 } } };
const LS_ONLY = { storage: { localStorage: true, indexedDb: false }, cache: { memory: { maxEntries: 0 } } };

async function keysFor(ai, n) {
  return Array.from({ length: n }, (_, i) => ai.cacheKey({ type: 'bench', character: 'npc', context: { n: i } }));
}

const CASES = {
  // --- memory tier (a hit served to JS) vs lru-cache ---
  async 'memory get: ours'(bytes) {
    const ai = await runtime(undefined, MEMORY_ONLY.storage);
    const keys = await keysFor(ai, 100);
    for (let i = 0; i < 100; i++) await ai.cachePut(keys[i], npcText(i, bytes), 0);
    const memory = ai.memoryCache();
    const ops = measureSync((i) => {
      if (memory.get(keys[i % 100]) === undefined) throw new Error('miss');
    });
    // The hits were served in JS: the runtime must have counted every one (all of warm-up included).
    if (ai.cacheStats().hits.memory < 100) throw new Error('memoryCache hits were not counted');
    return ops;
  },
  async 'memory get: ours cacheGetSync'(bytes) {
    const ai = await runtime(undefined, MEMORY_ONLY.storage);
    const keys = await keysFor(ai, 100);
    for (let i = 0; i < 100; i++) await ai.cachePut(keys[i], npcText(i, bytes), 0);
    return measureSync((i) => {
      if (ai.cacheGetSync(keys[i % 100]) === undefined) throw new Error('miss');
    });
  },
  async 'memory get: lru-cache'(bytes) {
    const lru = new LRUCache({ max: 100, ttl: 5 * 60 * 1000 });
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`.padEnd(41, '0'));
    for (let i = 0; i < 100; i++) lru.set(keys[i], npcText(i, bytes));
    return measureSync((i) => {
      if (lru.get(keys[i % 100]) === undefined) throw new Error('miss');
    });
  },
  async 'memory put: ours'(bytes) {
    const ai = await runtime(undefined, MEMORY_ONLY.storage);
    const keys = await keysFor(ai, 100);
    const texts = keys.map((_, i) => npcText(i, bytes));
    return measureAsync((i) => ai.cachePut(keys[i % 100], texts[i % 100], 0));
  },
  async 'memory put: lru-cache'(bytes) {
    const lru = new LRUCache({ max: 100, ttl: 5 * 60 * 1000 });
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`.padEnd(41, '0'));
    const texts = keys.map((_, i) => npcText(i, bytes));
    return measureSync((i) => lru.set(keys[i % 100], texts[i % 100]));
  },

  // --- IndexedDB tier vs idb-keyval ---
  async 'idb put: ours'(bytes) {
    const ai = await runtime(IDB_ONLY.cache, IDB_ONLY.storage);
    const keys = await keysFor(ai, 100);
    const texts = keys.map((_, i) => npcText(i, bytes));
    return measureAsync((i) => ai.cachePut(keys[i % 100], texts[i % 100], 1));
  },
  async 'idb put: idb-keyval'(bytes) {
    const texts = Array.from({ length: 100 }, (_, i) => npcText(i, bytes));
    return measureAsync((i) => idb.set(`k${i % 100}`, texts[i % 100]));
  },
  async 'idb get: ours'(bytes) {
    const ai = await runtime(IDB_ONLY.cache, IDB_ONLY.storage);
    const keys = await keysFor(ai, 100);
    for (let i = 0; i < 100; i++) await ai.cachePut(keys[i], npcText(i, bytes), 1);
    return measureAsync(async (i) => {
      if ((await ai.cacheGet(keys[i % 100])) === undefined) throw new Error('miss');
    });
  },
  async 'idb get: idb-keyval'(bytes) {
    for (let i = 0; i < 100; i++) await idb.set(`k${i}`, npcText(i, bytes));
    return measureAsync(async (i) => {
      if ((await idb.get(`k${i % 100}`)) === undefined) throw new Error('miss');
    });
  },
  async 'idb put x100: ours putMany'(bytes) {
    const ai = await runtime(IDB_ONLY.cache, IDB_ONLY.storage);
    const keys = await keysFor(ai, 100);
    const entries = keys.map((key, i) => ({ key, text: npcText(i, bytes), importance: 1 }));
    return measureAsync(() => ai.cachePutMany(entries), 100);
  },
  async 'idb put x100: idb-keyval one by one'(bytes) {
    const texts = Array.from({ length: 100 }, (_, i) => npcText(i, bytes));
    return measureAsync(async () => {
      for (let i = 0; i < 100; i++) await idb.set(`k${i}`, texts[i]);
    }, 100);
  },
  async 'idb put x100: idb-keyval setMany'(bytes) {
    const entries = Array.from({ length: 100 }, (_, i) => [`k${i}`, npcText(i, bytes)]);
    return measureAsync(() => idb.setMany(entries), 100);
  },
  async 'idb get x100: ours (concurrent cacheGet)'(bytes) {
    const ai = await runtime(IDB_ONLY.cache, IDB_ONLY.storage);
    const keys = await keysFor(ai, 100);
    await ai.cachePutMany(keys.map((key, i) => ({ key, text: npcText(i, bytes), importance: 1 })));
    return measureAsync(async () => {
      const hits = await Promise.all(keys.map((k) => ai.cacheGet(k)));
      if (hits.some((h) => h === undefined)) throw new Error('miss');
    }, 100);
  },
  async 'idb get x100: idb-keyval getMany'(bytes) {
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    await idb.setMany(keys.map((k, i) => [k, npcText(i, bytes)]));
    return measureAsync(async () => {
      const hits = await idb.getMany(keys);
      if (hits.some((h) => h === undefined)) throw new Error('miss');
    }, 100);
  },

  // --- localStorage tier vs raw localStorage ---
  async 'ls put: ours'(bytes) {
    const ai = await runtime(LS_ONLY.cache, LS_ONLY.storage);
    const keys = await keysFor(ai, 50);
    const texts = keys.map((_, i) => npcText(i, bytes));
    return measureAsync((i) => ai.cachePut(keys[i % 50], texts[i % 50], 0.5));
  },
  async 'ls put: raw localStorage'(bytes) {
    const texts = Array.from({ length: 50 }, (_, i) => npcText(i, bytes));
    return measureSync((i) => localStorage.setItem(`k${i % 50}`, texts[i % 50]));
  },
  async 'ls get: ours'(bytes) {
    const ai = await runtime(LS_ONLY.cache, LS_ONLY.storage);
    const keys = await keysFor(ai, 50);
    for (let i = 0; i < 50; i++) await ai.cachePut(keys[i], npcText(i, bytes), 0.5);
    return measureAsync(async (i) => {
      if ((await ai.cacheGet(keys[i % 50])) === undefined) throw new Error('miss');
    });
  },
  async 'ls get: raw localStorage'(bytes) {
    for (let i = 0; i < 50; i++) localStorage.setItem(`k${i}`, npcText(i, bytes));
    return measureSync((i) => {
      if (localStorage.getItem(`k${i % 50}`) === null) throw new Error('miss');
    });
  },

  // --- compression: ratio from the cache's own counters ---
  async compression(bytes) {
    const ai = await runtime(LS_ONLY.cache, LS_ONLY.storage);
    const keys = await keysFor(ai, 50);
    for (let i = 0; i < 50; i++) await ai.cachePut(keys[i], npcText(i, bytes), 0.5);
    const c = ai.cacheStats().compression;
    return { ratio: c.ratio, rawBytes: c.rawBytes, storedBytes: c.storedBytes };
  },
};

window.caseNames = Object.keys(CASES);
window.runCase = async (name, bytes) => CASES[name](bytes);
window.benchReady = true;

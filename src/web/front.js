// The memory tier's copy on the JS side: `ai.memoryCache().get(key)` is one Map lookup and a clock read, with no
// call into WebAssembly (a call costs more than the lookup itself, and copying a 20 KB line out of wasm memory
// costs far more). The runtime keeps this copy a subset of its memory tier: it reports every insert, eviction,
// expiry, invalidation and clear here (`_set`, `_remove`, `_clear`), and it collects the hits served here
// (`_takeHits`) before it next evicts or reports stats, so LRU order and `cacheStats().hits.memory` stay right.
// A message from another tab clears the copy at once (the core applies the invalidation on its next call).
export class MemoryFront {
  constructor() {
    this._entries = new Map();
    this._used = [];
    this._now = 0;
    this._tick = () => {
      this._now = 0;
    };
  }

  // Wall-clock ms, read at most once per millisecond (as lru-cache's ttlResolution does): within one long task
  // the time stands still, so an entry can outlive its TTL by at most the rest of that task.
  _clock() {
    let now = this._now;
    if (now === 0) {
      now = this._now = Date.now();
      setTimeout(this._tick, 1);
    }
    return now;
  }

  /** The cached text for `key` (from `ai.cacheKey`) if the memory tier holds it unexpired, else undefined. */
  get(key) {
    const e = this._entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this._clock()) {
      this._entries.delete(key);
      return undefined;
    }
    if (e.hits++ === 0) this._used.push(e);
    return e.text;
  }

  /** Whether `get(key)` would return a text (does not count as a hit). */
  has(key) {
    const e = this._entries.get(key);
    return e !== undefined && e.expiresAt > this._clock();
  }

  /** Entries held (expired ones are dropped when read or when the runtime sweeps). */
  get size() {
    return this._entries.size;
  }

  _set(key, text, expiresAt) {
    const old = this._entries.get(key);
    const e = { key, text, expiresAt, hits: 0 };
    // Hits not yet collected stay counted.
    if (old !== undefined && old.hits > 0) {
      e.hits = old.hits;
      this._used[this._used.indexOf(old)] = e;
    }
    this._entries.set(key, e);
  }

  _remove(key) {
    this._entries.delete(key);
  }

  _clear() {
    this._entries.clear();
  }

  /** [key, hits, key, hits, ...] since the last call. */
  _takeHits() {
    const out = [];
    for (const e of this._used) {
      out.push(e.key, e.hits);
      e.hits = 0;
    }
    this._used.length = 0;
    return out;
  }
}

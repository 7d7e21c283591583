// Worker mode's copy of the memory tier on the main thread (as src/web/front.js, fed by the worker's messages), so
// memoryCache().get and cacheGetSync() stay synchronous Map reads (ARCHITECTURE.md, "Worker mode").

export class FrontCopy {
  constructor() {
    this._entries = new Map();
    this._reset();
  }

  // Counts since the current worker started: hits served here (per key, until sent), and the totals of hits and
  // of cacheGetSync() misses, which the worker's cacheStats() takes in with the next message.
  _reset() {
    this._hits = new Map();
    this._served = 0;
    this._missed = 0;
    this._missedSent = 0;
  }

  get(key) {
    const e = this._entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= Date.now()) {
      this._entries.delete(key);
      return undefined;
    }
    this._hits.set(key, (this._hits.get(key) ?? 0) + 1);
    this._served += 1;
    return e.text;
  }

  has(key) {
    const e = this._entries.get(key);
    return e !== undefined && e.expiresAt > Date.now();
  }

  get size() {
    return this._entries.size;
  }

  /** What the worker has not heard yet: { served: [key, hits, ...], missed: total }, or undefined. */
  _takeHits() {
    if (this._hits.size === 0 && this._missed === this._missedSent) return undefined;
    const served = [];
    for (const [k, n] of this._hits) served.push(k, n);
    this._hits.clear();
    this._missedSent = this._missed;
    return { served, missed: this._missed };
  }
}

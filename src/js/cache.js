// The JS half of src/js/cache.rs: what costs less built here than through wasm-bindgen's generic glue.

// Tier names by the index src/js/cache.rs passes (Tier's serde names, the TypeScript `CacheTier`).
const TIERS = ['memory', 'localStorage', 'indexedDb'];

/** A `CacheHit`: one call from WebAssembly instead of an object and a property set per field. */
export function hit(text, tier) {
  return { text, tier: TIERS[tier] };
}

// The settle functions of the promises `pending` handed out, by task id.
const waiting = new Map();

/** A promise for task `id` of src/js/cache.rs, settled later by `settle(id, ...)`. */
export function pending(id) {
  return new Promise((resolve, reject) => waiting.set(id, [resolve, reject]));
}

/** Resolves (`ok`) or rejects the promise of task `id` with `value`. */
export function settle(id, ok, value) {
  const settlers = waiting.get(id);
  if (settlers !== undefined) {
    waiting.delete(id);
    settlers[ok ? 0 : 1](value);
  }
}

// The JS half of src/js/cache.rs: a `CacheHit` built here costs one call instead of wasm-bindgen's generic glue.

// Tier names by the index src/js/cache.rs passes: `Tier::ALL`'s order and spellings (the TypeScript
// `CacheTier`); a browser test holds the two to each other.
const TIERS = ['memory', 'localStorage', 'indexedDb'];

/** A `CacheHit`: one call from WebAssembly instead of an object and a property set per field. */
export function hit(text, tier) {
  return { text, tier: TIERS[tier] };
}

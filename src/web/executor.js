// The JS half of src/web/executor.rs: promises settled later, by task id.

// The settle functions of the promises `pending` handed out, by task id.
const waiting = new Map();

/** A promise for task `id` of src/web/executor.rs, settled later by `settle(id, ...)`. */
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

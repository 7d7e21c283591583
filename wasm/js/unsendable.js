// For worker mode's proxy (proxy.js): where in a call's arguments the value sits that cannot be sent to the worker
// (a function or symbol where data was expected, a getter that throws, nesting deeper than is sent), named as the
// main thread's runtime names a request's member (`field`), so a bad argument gives the same error in both modes.
const ARGS = {
  generate: ['(request)'], observe: ['(event)'], canonicalRequest: ['(moment)'], analyze: ['text'],
  analyzeBatch: ['texts'], cacheGet: ['key'], cachePut: ['key', 'text', 'importance'], cachePutMany: ['entries'],
  cacheInvalidate: ['player'], onReport: ['callback', 'everyMs'],
};
const MAX_DEPTH = 32;
export function unsendableField(method, args) {
  const names = ARGS[method] ?? [];
  const seen = new Set();
  const join = (at, k, index) => (index ? `${at}[${k}]` : at === '' || at.startsWith('(') ? k : `${at}.${k}`);
  const find = (v, at, depth) => {
    if (typeof v === 'function' || typeof v === 'symbol') return at;
    if (v === null || typeof v !== 'object' || seen.has(v)) return null;
    if (depth >= MAX_DEPTH) return at;
    seen.add(v);
    const index = Array.isArray(v);
    for (const k of Object.keys(v)) {
      let x;
      try {
        x = v[k];
      } catch {
        return join(at, k, index);
      }
      const found = find(x, join(at, k, index), depth + 1);
      if (found !== null) return found;
    }
    return null;
  };
  for (let i = 0; i < args.length; i++) {
    // A function argument crosses as a callback id (wrap()); only data can fail to be sent.
    if (typeof args[i] === 'function') continue;
    const found = find(args[i], names[i] ?? '', 0);
    if (found !== null) return found === '' ? undefined : found;
  }
  return undefined;
}

// What a worker lacks and worker mode's proxy (proxy.js) lends it from the page: the namespace's localStorage keys
// (and every write back, under the same quota), battery, visibility and idle callbacks. The worker's side is
// worker.js (`__unwrittenHost`); src/web/ reads them only where the real global is missing.

// What the origin's localStorage can still take, in bytes of UTF-16 (browsers allow about 5 MiB per origin).
function storageRoom(storage) {
  let used = 0;
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    used += (k.length + (storage.getItem(k)?.length ?? 0)) * 2;
  }
  return Math.max(0, 5 * 1024 * 1024 * 2 - used);
}

function localStorageOrNull() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export class PageHost {
  /** `post(message)`: to the current worker, if any. */
  constructor(post) {
    this.post = post;
    this.ls = null;
    this.listeners = [];
  }

  /** For a fresh worker's init message: { storage, idle, visibilityState, battery }, and the page's events
   * listened to from now on. */
  async start(config) {
    const ns = typeof config?.namespace === 'string' ? config.namespace : 'unwritten';
    const prefix = `${ns}:`;
    const ls = config?.storage?.localStorage === false ? null : localStorageOrNull();
    let storage;
    if (ls !== null) {
      const entries = [];
      for (let i = 0; i < ls.length; i++) {
        const k = ls.key(i);
        if (k !== null && k.startsWith(prefix)) entries.push([k, ls.getItem(k)]);
      }
      storage = { entries, room: storageRoom(ls) };
    }
    let battery = null;
    try {
      const b = await navigator.getBattery?.();
      if (b) {
        battery = { level: b.level, charging: b.charging };
        const update = () => this.post({ t: 'host', battery: { level: b.level, charging: b.charging } });
        this.listen(b, 'levelchange', update);
        this.listen(b, 'chargingchange', update);
      }
    } catch {
      // No battery signal: the runtime reads it as unknown.
    }
    if (ls !== null) {
      this.listen(globalThis, 'storage', (e) => {
        if (e.storageArea !== ls || (e.key !== null && !e.key.startsWith(prefix))) return;
        this.post({ t: 'storage', key: e.key, value: e.newValue });
      });
    }
    this.listen(globalThis.document, 'visibilitychange', () => {
      this.post({ t: 'host', visibilityState: document.visibilityState });
    });
    this.ls = ls;
    return {
      storage,
      idle: typeof globalThis.requestIdleCallback === 'function',
      visibilityState: globalThis.document?.visibilityState ?? 'visible',
      battery,
    };
  }

  listen(target, type, fn) {
    if (!target?.addEventListener) return;
    target.addEventListener(type, fn);
    this.listeners.push([target, type, fn]);
  }

  /** Stops listening (a worker's end; a fresh one listens again). */
  stop() {
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn);
    this.listeners = [];
  }

  /** Answers the worker's requests to the page; false for a message that is not one. */
  handle(w, m) {
    switch (m.t) {
      case 'ls':
        try {
          if (m.value === null) this.ls.removeItem(m.key);
          else this.ls.setItem(m.key, m.value);
        } catch {
          // Refused (quota): the worker's copy must say what the real storage holds.
          w.postMessage({ t: 'storage', key: m.key, value: this.ls.getItem(m.key) });
        }
        return true;
      case 'lsGet':
        // The worker's copy asks for a key as the real storage holds it (the budget's record, under its lock).
        w.postMessage({ t: 'storage', id: m.id, key: m.key, value: this.ls?.getItem(m.key) ?? null });
        return true;
      case 'ric': {
        const answer = (deadline) =>
          w.postMessage({ t: 'idle', id: m.id, didTimeout: deadline.didTimeout, deadline: performance.timeOrigin + performance.now() + deadline.timeRemaining() });
        requestIdleCallback(answer, m.timeout === undefined ? undefined : { timeout: m.timeout });
        return true;
      }
      default:
        return false;
    }
  }
}

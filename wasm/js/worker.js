// The worker host (issue 18): one runtime of the package in a dedicated Web Worker, driven by the main thread's
// proxy (proxy.js). The module's instantiation, the model's download, verification and build, inference and
// pre-generation all run here, so none of them is a main-thread task.
//
// What a worker lacks, the proxy bridges from the main thread into `globalThis.__unwrittenHost`, which the Rust
// adapters (src/web/) read when the worker has no global of their own: `localStorage` (a mirror of the
// namespace's keys; writes go back to the real one), `getBattery()`, `visibilityState` and `requestIdleCallback`.
// The memory tier's JS copy lives on the main thread: every change to the worker's copy is sent there, and the
// hits served there come back with the next call.
import __wbg_init, * as glue from './unwritten_ai.js';
import { compileFrom } from './streaming.js';

// When each step of the boot ended, in ms since the epoch: sent with the create reply (proxy.js `marks`), for the
// frame benchmark's account of where worker mode's start-up time goes.
const at = () => performance.timeOrigin + performance.now();
const marks = { workerScript: at() };

// When the worker last posted: the heartbeat below fills silences only.
let postedAt = 0;
const post = (m) => {
  postedAt = performance.now();
  self.postMessage(m);
};
let rt = null;
let front = null;
// Per-call snapshots of the state the proxy serves synchronously (modelStatus, metrics, cacheStats, events, flags).
let dead = false;
// The proxy's onReport ids -> the runtime's.
const reports = new Map();

// The heartbeat: the proxy declares a worker that stays silent with calls waiting dead (a worker the browser closes
// or kills for memory fires no error event). It runs from the start, so a long boot is not mistaken for a death.
const BEAT_MS = 1000;
setInterval(() => {
  if (performance.now() - postedAt >= BEAT_MS) post({ t: 'beat' });
}, BEAT_MS);

// ---- the bridge (see src/web/mod.rs `HOST`)
const host = { visibilityState: 'visible' };
self.__unwrittenHost = host;
let battery = null;
host.getBattery = () => (battery === null ? undefined : Promise.resolve(battery));

// localStorage: the namespace's keys as the main thread had them at boot, kept in step by 'storage' messages
// (other tabs' writes). Writes apply here at once and are sent to the real storage. The quota is the main
// thread's estimate of what the origin has left; a write the real storage refuses anyway is reported back and
// dropped here too.
function mirrorStorage({ entries, room }) {
  const map = new Map(entries);
  let left = room;
  const size = (k, v) => (k.length + v.length) * 2;
  return {
    _map: map,
    get length() {
      return map.size;
    },
    key(i) {
      return [...map.keys()][i] ?? null;
    },
    getItem(k) {
      return map.get(String(k)) ?? null;
    },
    setItem(k, v) {
      k = String(k);
      v = String(v);
      const old = map.get(k);
      const grow = size(k, v) - (old === undefined ? 0 : size(k, old));
      if (grow > left) throw new DOMException('the main thread estimates the localStorage quota is used up', 'QuotaExceededError');
      left -= grow;
      map.set(k, v);
      post({ t: 'ls', key: k, value: v });
    },
    removeItem(k) {
      k = String(k);
      const old = map.get(k);
      if (old === undefined) return;
      left += size(k, old);
      map.delete(k);
      post({ t: 'ls', key: k, value: null });
    },
    // The key as the real storage holds it now (src/web/local_storage.rs `get_latest`): the budget's record is
    // read this way under its Web Lock, since another runtime's write (another worker of this page, which fires
    // no storage event here, or another tab's event still on its way) may not have reached this copy yet.
    latest(k) {
      k = String(k);
      const id = ++latestIds;
      return new Promise((resolve) => {
        // The main thread answers within a task; if it cannot (it is gone), this copy is what there is.
        const timer = setTimeout(() => {
          latestWaiting.delete(id);
          resolve();
        }, LATEST_LIMIT_MS);
        latestWaiting.set(id, () => {
          clearTimeout(timer);
          resolve();
        });
        post({ t: 'lsGet', id, key: k });
      });
    },
  };
}
let latestIds = 0;
const latestWaiting = new Map();
const LATEST_LIMIT_MS = 1000;

// requestIdleCallback answered by the main thread's: the deadline is sent as an absolute time (the two threads'
// performance.now() start at different origins).
let idleIds = 0;
const idleWaiting = new Map();
function bridgeIdle() {
  host.requestIdleCallback = (callback, options) => {
    const id = ++idleIds;
    idleWaiting.set(id, callback);
    post({ t: 'ric', id, timeout: options?.timeout });
    return id;
  };
}

// ---- the memory tier's copy on the main thread
function mirrorFront(f) {
  const set = f._set.bind(f);
  const remove = f._remove.bind(f);
  const clear = f._clear.bind(f);
  f._set = (key, text, expiresAt) => {
    set(key, text, expiresAt);
    post({ t: 'front', op: 'set', key, text, expiresAt });
  };
  f._remove = (key) => {
    remove(key);
    post({ t: 'front', op: 'remove', key });
  };
  f._clear = () => {
    clear();
    post({ t: 'front', op: 'clear' });
  };
}

// Hits served by the main thread's copy, counted as the worker's copy counts its own (front.js `get`), and its
// cacheGetSync() misses (a running total). `fromMain`: the totals heard, sent with the stats (proxy cacheStats()).
const fromMain = { served: 0, missed: 0 };
function applyHits(hits) {
  if (!front || !hits) return;
  const served = hits.served;
  for (let i = 0; i + 1 < served.length; i += 2) {
    fromMain.served += served[i + 1];
    const e = front._entries.get(served[i]);
    if (e === undefined) continue;
    if (e.hits === 0) front._used.push(e);
    e.hits += served[i + 1];
  }
  if (hits.missed > fromMain.missed) {
    try {
      rt.__countSyncMisses(hits.missed - fromMain.missed);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) crashed(e.message);
    }
    fromMain.missed = hits.missed;
  }
}

// The state the proxy serves synchronously. `full`: metrics() and cacheStats() too, which cost a few hundred µs
// to build and copy; after an analyze they follow the reply in a message of their own, so the round trip of a
// call that takes about 1 ms does not wait for them. A generate() (10 ms and more) carries them, so a game that
// reads metrics() after awaiting one sees that line counted (its source, the breaker it closed, a pre-generated hit).
const LIGHT = ['modelStatus', 'takeEvents'];
const FULL = ['modelStatus', 'metrics', 'cacheStats', 'takeEvents'];
const HOT = new Set(['analyze', 'analyzeBatch']);
// After an analyze the full state follows within HOT_STATE_MS, once for all the calls of that time: a game that
// analyses a line every frame would otherwise have the worker build metrics() (0.2-0.9 ms) and the page copy
// them after every call, for figures that change a little per call.
const HOT_STATE_MS = 50;
let statePosted = null;
function postStateSoon(delayMs = 0) {
  statePosted ??= setTimeout(() => {
    statePosted = null;
    if (!dead && rt !== null) post({ t: 'state', state: snapshot(true) });
  }, delayMs);
}

// The flags' state for the main thread's copy (proxy.js `flags()`): sent when it changed, with the number of the
// last read from that copy replayed here.
let flagsSeq = 0;
let flagsSent = null;

function snapshot(full = true) {
  if (rt === null) return null;
  const s = { flagsSeq };
  try {
    const f = rt.__flagsSnapshot();
    if (f !== flagsSent) {
      s.flags = f;
      flagsSent = f;
    }
  } catch {
    // Disposed: the proxy refuses the reads itself.
  }
  // With the stats they are in (a light state has none).
  if (full) s.fromMain = { ...fromMain };
  for (const k of full ? FULL : LIGHT) {
    try {
      s[k] = rt[k]();
    } catch (e) {
      s[k] = { error: errorOf(e) };
    }
  }
  return s;
}

function errorOf(e) {
  if (e instanceof Error) return { name: e.name, message: e.message, field: e.field };
  return { name: 'Error', message: String(e) };
}

// The instance trapped: nothing of it may run again. The proxy rejects what is pending and terminates us.
function crashed(message) {
  if (dead) return;
  dead = true;
  post({ t: 'crash', message: String(message).slice(0, 500) });
}

// Callbacks cross as { __cb: id }: the worker's stand-in posts each call to the main thread.
function revive(args) {
  return args.map((a) =>
    a !== null && typeof a === 'object' && typeof a.__cb === 'number'
      ? (...xs) => post({ t: 'cb', cb: a.__cb, args: xs })
      : a,
  );
}

async function call({ id, method, args, hits }) {
  if (dead) return;
  applyHits(hits);
  try {
    let value;
    if (method === 'create') {
      marks.createStart = at();
      rt = await glue.UnwrittenAI.create(args[0]);
      marks.created = at();
      front = rt.memoryCache();
      mirrorFront(front);
      // What the copy holds already (the warm entries read at start).
      for (const [key, e] of front._entries) post({ t: 'front', op: 'set', key, text: e.text, expiresAt: e.expiresAt });
      value = rt.version();
    } else if (method === '__forceTrap') {
      // "silent": the worker ends as a browser ends it for memory, with no error event and no reply.
      if (args[0] === 'silent') return self.close();
      value = await glue.__forceTrap(args[0]);
    } else {
      value = await rt[method](...revive(args));
    }
    const hot = HOT.has(method);
    post({ t: 'reply', id, ok: true, value, state: snapshot(!hot), marks: method === 'create' ? marks : undefined });
    if (hot) postStateSoon(HOT_STATE_MS);
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      crashed(e.message);
      return;
    }
    post({ t: 'reply', id, ok: false, error: errorOf(e), state: snapshot() });
  }
}

// This worker's instance, with tract's registrations, once (the spare's is made before the runtime asks for it).
let instantiating = null;
function instantiate(module) {
  instantiating ??= (async () => {
    await __wbg_init({ module_or_path: module });
    marks.workerInstantiated = at();
    glue.__runCtors();
    marks.workerCtors = at();
  })();
  return instantiating;
}

// Events and reports can come without a call (background work): the proxy gets the state on a timer too.
let timer = null;

self.onmessage = async (ev) => {
  const m = ev.data;
  switch (m.t) {
    case 'compile': {
      let module;
      // At import (compile.js): the module compiles here, off the page's thread, and goes back as a shared Module.
      try {
        module = await compileFrom(m.url);
        marks.workerCompiled = at();
        post({ t: 'compiled', module });
      } catch (e) {
        post({ t: 'compileFailed', error: errorOf(e) });
        break;
      }
      // Instantiated now, while the page goes on, so a runtime that takes this worker (the spare) starts sooner.
      instantiate(module).catch(() => {});
      break;
    }
    case 'init':
      marks.workerInit = at();
      try {
        if (m.storage) host.localStorage = mirrorStorage(m.storage);
        if (m.idle) bridgeIdle();
        host.visibilityState = m.visibilityState;
        battery = m.battery;
        await instantiate(m.module);
        glue.setDefaultModelAssets(...m.assets);
        glue.setCrashHandler(crashed);
        timer = setInterval(() => postStateSoon(), m.stateEveryMs);
        post({ t: 'ready' });
      } catch (e) {
        post({ t: 'bootFailed', error: errorOf(e) });
      }
      break;
    case 'ping':
      post({ t: 'pong', id: m.id });
      break;
    case 'call':
      await call(m);
      break;
    case 'fire':
      // Sync methods with no answer the game waits for (observe, offReport, dispose): run, report only a trap.
      if (dead || rt === null) break;
      applyHits(m.hits);
      try {
        if (m.method === 'onReport') {
          const cb = m.args[0].__cbId;
          reports.set(cb, rt.onReport((metrics) => post({ t: 'cb', cb, args: [metrics] }), m.args[1]));
        } else if (m.method === 'offReport') {
          if (reports.has(m.args[0])) rt.offReport(reports.get(m.args[0]));
          reports.delete(m.args[0]);
        } else {
          rt[m.method](...revive(m.args));
        }
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) crashed(e.message);
      }
      break;
    case 'hits':
      applyHits(m.hits);
      break;
    case 'flags':
      // A variant() the main thread's copy answered: the same assignment kept and stored here, no second event.
      if (dead || rt === null) break;
      try {
        rt.__replayVariant(m.experiment);
      } catch (e) {
        if (e instanceof WebAssembly.RuntimeError) crashed(e.message);
      }
      flagsSeq = m.seq;
      break;
    case 'idle': {
      const cb = idleWaiting.get(m.id);
      idleWaiting.delete(m.id);
      const deadline = m.deadline;
      cb?.({ didTimeout: m.didTimeout, timeRemaining: () => Math.max(0, deadline - (performance.timeOrigin + performance.now())) });
      break;
    }
    case 'storage': {
      const map = host.localStorage?._map;
      if (map) {
        if (m.key === null) map.clear();
        else if (m.value === null) map.delete(m.key);
        else map.set(m.key, m.value);
      }
      // The answer to a `latest(key)`.
      if (m.id !== undefined) {
        latestWaiting.get(m.id)?.();
        latestWaiting.delete(m.id);
      }
      break;
    }
    case 'host':
      if ('visibilityState' in m) host.visibilityState = m.visibilityState;
      if ('battery' in m) battery = m.battery;
      break;
    case 'stop':
      clearInterval(timer);
      break;
    default:
  }
};

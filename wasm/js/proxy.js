// The main-thread side of `worker: true` (issue 18): a runtime that lives in a dedicated Web Worker (worker.js),
// behind the same methods. Async methods are one message each way. The sync ones are answered here, from what the
// worker sends with every reply and every STATE_EVERY_MS: modelStatus(), metrics(), cacheStats(), the events
// (takeEvents()), and the memory tier's copy (memoryCache(), cacheGetSync()). cacheKey(), canonicalRequest() and the
// flag reads (isEnabled, getFlag, variant, inRollout) run here on this thread's instance of the module, the flags
// on a copy of the worker's (FlagsMirror, src/runtime/flags_mirror.rs). observe(), offReport() and dispose()
// are sent and not waited for. The worker also gets what it lacks from here: the namespace's localStorage keys
// (and every write back), battery, visibility and idle callbacks.
//
// If the worker dies (a trap, out of memory, terminated), every pending call rejects with RuntimeCrashed; the next
// call starts a fresh worker with the same config (storage is where it was) and `takeEvents()` reports
// { type: "runtimeRestarted", reason, atMs }. A worker the browser ends without an error event (closed, killed for
// memory) goes quiet: the worker posts something at least every BEAT_MS, so a silence of DEAD_AFTER_MS while a
// call or the boot is waiting on it means it is gone.

import { unsendableField } from './unsendable.js';

const STATE_EVERY_MS = 250;
// How long a worker with calls waiting on it may stay silent before it is declared dead. Its heartbeat (worker.js,
// every 1 s) only stops while it runs one synchronous task: the longest legitimate one is the model build from
// bytes, 70-300 ms on our 2-core machines (docs/performance.md), and an analyzeBatch() of 64 texts, about 0.2 s.
// 10 s leaves 30x for slower devices and a loaded machine, and is still a bounded wait for the game. An
// analyzeBatch() runs its texts in one task (up to 1024 of them, 2.3 ms each at 128 tokens here): it gets
// QUIET_PER_TEXT_MS more per text, 10x what a text takes on our machines.
const DEAD_AFTER_MS = 10_000;
const QUIET_PER_TEXT_MS = 25;
const WATCH_EVERY_MS = 1000;
// Bounds the events kept for takeEvents() (the core's own queues hold 256 each).
const MAX_EVENTS = 1024;

function named(name, message, field) {
  const err = new Error(message);
  err.name = name;
  if (field !== undefined) err.field = field;
  return err;
}
const revive = (e) => named(e.name, e.message, e.field);

// The memory tier's copy on the main thread (as src/web/front.js, fed by the worker's messages).
class FrontCopy {
  constructor() {
    this._entries = new Map();
    this._hits = new Map();
  }

  get(key) {
    const e = this._entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= Date.now()) {
      this._entries.delete(key);
      return undefined;
    }
    this._hits.set(key, (this._hits.get(key) ?? 0) + 1);
    return e.text;
  }

  has(key) {
    const e = this._entries.get(key);
    return e !== undefined && e.expiresAt > Date.now();
  }

  get size() {
    return this._entries.size;
  }

  _takeHits() {
    if (this._hits.size === 0) return undefined;
    const out = [];
    for (const [k, n] of this._hits) out.push(k, n);
    this._hits.clear();
    return out;
  }
}

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

export class WorkerRuntime {
  /** `module`: the compiled WebAssembly.Module, or a promise of it. `local`: a promise of this thread's instance
   * of it (index.js `localSide`), which answers the sync methods. */
  constructor(config, { module, assets, local }) {
    this.config = config;
    this.module = module;
    this.assets = assets;
    this.local = local;
    // The worker's flags, copied here (src/runtime/flags_mirror.rs), and the last read number sent to the worker.
    this.flagsCopy = null;
    this.flagsSent = 0;
    this.front = new FrontCopy();
    this.events = [];
    this.state = null;
    this.pending = new Map();
    this.callbacks = new Map();
    this.ids = 0;
    this.disposed = false;
    this.freed = false;
    this.worker = null;
    this.starting = null;
    this.crash = null;
    this.versionText = '';
    this.listeners = [];
  }

  // ---- the worker's life
  async start() {
    // A new worker's reads count from 0 again: its copy is made from its create reply (below).
    this.flagsCopy = null;
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'unwritten-ai' });
    this.worker = w;
    this.crash = null;
    const ns = typeof this.config?.namespace === 'string' ? this.config.namespace : 'unwritten';
    const prefix = `${ns}:`;
    const ls = this.config?.storage?.localStorage === false ? null : localStorageOrNull();
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
        const update = () => this.worker?.postMessage({ t: 'host', battery: { level: b.level, charging: b.charging } });
        b.addEventListener('levelchange', update);
        b.addEventListener('chargingchange', update);
      }
    } catch {
      // No battery signal: the runtime reads it as unknown.
    }
    this.listen(ls, prefix);
    const ready = new Promise((resolve, reject) => {
      this.onReady = resolve;
      this.onBootFailed = reject;
    });
    // Awaited below; a death before then must not count as an unhandled rejection.
    ready.catch(() => {});
    w.onmessage = (ev) => this.receive(w, ev.data);
    w.onerror = (ev) => {
      ev.preventDefault?.();
      this.died(w, ev.message || 'the worker failed');
    };
    w.onmessageerror = () => this.died(w, 'a message from the worker could not be read');
    // The worker's script loads while the module finishes compiling here.
    const module = await this.module;
    this.watch(w);
    w.postMessage({
      t: 'init',
      module,
      assets: this.assets,
      storage,
      idle: typeof globalThis.requestIdleCallback === 'function',
      visibilityState: globalThis.document?.visibilityState ?? 'visible',
      battery,
      stateEveryMs: STATE_EVERY_MS,
    });
    await ready;
    this.versionText = await this.send('create', [this.config]);
    // The create reply carried the first flags snapshot: the sync methods answer from the moment create() resolves.
    this.flagsSent = 0;
    this.flagsCopy = null;
    this.localSide = await this.local;
    this.flags();
  }

  // Window events the worker needs: other tabs' storage writes, visibility.
  listen(ls, prefix) {
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn);
    this.listeners = [];
    const add = (target, type, fn) => {
      if (!target?.addEventListener) return;
      target.addEventListener(type, fn);
      this.listeners.push([target, type, fn]);
    };
    if (ls !== null) {
      add(globalThis, 'storage', (e) => {
        if (e.storageArea !== ls || (e.key !== null && !e.key.startsWith(prefix))) return;
        this.worker?.postMessage({ t: 'storage', key: e.key, value: e.newValue });
      });
    }
    add(globalThis.document, 'visibilitychange', () => {
      this.worker?.postMessage({ t: 'host', visibilityState: document.visibilityState });
    });
    this.ls = ls;
  }

  receive(w, m) {
    if (w !== this.worker) return;
    this.heardAt = performance.now();
    switch (m.t) {
      case 'ready':
        this.booted = true;
        this.onReady();
        break;
      case 'bootFailed':
        this.onBootFailed(revive(m.error));
        break;
      case 'reply': {
        this.take(m.state);
        const call = this.pending.get(m.id);
        if (!call) break;
        this.pending.delete(m.id);
        if (m.ok) call.resolve(m.value);
        else call.reject(revive(m.error));
        break;
      }
      case 'pong':
        this.pending.get(m.id)?.resolve();
        this.pending.delete(m.id);
        break;
      case 'state':
        this.take(m.state);
        break;
      case 'front':
        if (m.op === 'set') this.front._entries.set(m.key, { text: m.text, expiresAt: m.expiresAt });
        else if (m.op === 'remove') this.front._entries.delete(m.key);
        else this.front._entries.clear();
        break;
      case 'ls':
        try {
          if (m.value === null) this.ls.removeItem(m.key);
          else this.ls.setItem(m.key, m.value);
        } catch {
          // Refused (quota): the worker's copy must say what the real storage holds.
          w.postMessage({ t: 'storage', key: m.key, value: this.ls.getItem(m.key) });
        }
        break;
      case 'lsGet':
        // The worker's copy asks for a key as the real storage holds it (the budget's record, under its lock).
        w.postMessage({ t: 'storage', id: m.id, key: m.key, value: this.ls?.getItem(m.key) ?? null });
        break;
      case 'ric': {
        const answer = (deadline) =>
          w.postMessage({ t: 'idle', id: m.id, didTimeout: deadline.didTimeout, deadline: performance.timeOrigin + performance.now() + deadline.timeRemaining() });
        requestIdleCallback(answer, m.timeout === undefined ? undefined : { timeout: m.timeout });
        break;
      }
      case 'cb':
        try {
          this.callbacks.get(m.cb)?.(...m.args);
        } catch (e) {
          // A game's callback that throws must not stop the messages; the browser reports it.
          setTimeout(() => {
            throw e;
          });
        }
        break;
      case 'crash':
        this.died(w, m.message);
        break;
      default:
    }
  }

  queue(events) {
    if (!Array.isArray(events) || events.length === 0) return;
    this.events.push(...events);
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }

  take(state) {
    if (!state) return;
    this.state = { ...this.state, ...state };
    if (this.flagsCopy !== null && typeof state.flagsSeq === 'number') {
      try {
        this.localSide.run(() => this.flagsCopy.copy.update(state.flags, state.flagsSeq));
      } catch {
        // This thread's instance trapped meanwhile: the next read rebuilds the copy from this.state.flags.
        this.flagsCopy = null;
      }
    }
    this.queue(state.takeEvents);
  }

  // The watchdog: a worker closed or killed without an error event only goes quiet (see DEAD_AFTER_MS).
  watch(w) {
    clearInterval(this.watchdog);
    this.booted = false;
    this.heardAt = performance.now();
    let tickAt = this.heardAt;
    this.watchdog = setInterval(() => {
      const now = performance.now();
      // A late tick means this thread was busy (or throttled): the worker's messages may be queued behind it, so
      // judge on the next tick, after they have been read.
      const late = now - tickAt > 2 * WATCH_EVERY_MS;
      tickAt = now;
      const waiting = this.pending.size > 0 || !this.booted;
      let allowed = DEAD_AFTER_MS;
      for (const call of this.pending.values()) allowed = Math.max(allowed, DEAD_AFTER_MS + (call.quietMs ?? 0));
      if (!late && waiting && now - this.heardAt > allowed) {
        this.died(w, `no message from it for ${Math.round((now - this.heardAt) / 1000)} s with calls waiting: closed or killed by the browser`);
      }
    }, WATCH_EVERY_MS);
  }

  died(w, message) {
    if (w !== this.worker) return;
    clearInterval(this.watchdog);
    this.worker = null;
    this.starting = null;
    this.crash = String(message);
    w.terminate();
    const err = named('RuntimeCrashed', `the runtime's worker died (${this.crash}); the next call starts a fresh one`);
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
    this.onBootFailed?.(err);
  }

  // The next call after a death starts a fresh worker on the same config, and says so as an event.
  async alive() {
    if (this.worker !== null && this.starting === null) return;
    if (this.starting === null) {
      const reason = this.crash;
      this.starting = this.start().then(
        () => {
          this.starting = null;
          this.events.push({ type: 'runtimeRestarted', reason, atMs: Date.now() });
        },
        (e) => {
          // The next call tries again.
          this.starting = null;
          const w = this.worker;
          this.worker = null;
          w?.terminate();
          throw e;
        },
      );
    }
    await this.starting;
  }

  send(method, args) {
    const w = this.worker;
    if (w === null) return Promise.reject(named('RuntimeCrashed', 'the worker is gone'));
    const id = ++this.ids;
    return new Promise((resolve, reject) => {
      // The watchdog's extra patience for a call that keeps the worker busy in one task.
      const quietMs = method === 'analyzeBatch' && Array.isArray(args[0]) ? Math.min(args[0].length, 1024) * QUIET_PER_TEXT_MS : 0;
      this.pending.set(id, { resolve, reject, quietMs });
      try {
        w.postMessage({ t: 'call', id, method, args: this.wrap(args), hits: this.front._takeHits() });
      } catch (e) {
        this.pending.delete(id);
        // Not structured-cloneable (a function or symbol where data was expected).
        const field = unsendableField(method, args);
        const what = field === undefined ? 'an argument' : `request field \`${field}\``;
        reject(named(method === 'create' ? 'InvalidConfig' : 'InvalidRequest', `${method}: ${what} cannot be sent to the worker (${e.message})`, field));
      }
    });
  }

  // One message there and back, nothing run: what worker mode adds to every call (bench/frame measures it).
  ping() {
    const id = ++this.ids;
    return new Promise((resolve, reject) => {
      if (this.worker === null) return reject(named('RuntimeCrashed', 'the worker is gone'));
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ t: 'ping', id });
    });
  }

  // Functions cross as ids; the worker's stand-ins post their calls back (loadModel's progress, onReport).
  wrap(args) {
    return args.map((a) => {
      if (typeof a !== 'function') return a;
      const id = ++this.ids;
      this.callbacks.set(id, a);
      return { __cb: id };
    });
  }

  // ---- the methods
  async call(method, args) {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
    await this.alive();
    return this.send(method, args);
  }

  fire(method, args) {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
    if (this.worker === null) {
      this.alive().catch(() => {});
      return;
    }
    try {
      this.worker.postMessage({ t: 'fire', method, args: this.wrap(args), hits: this.front._takeHits() });
    } catch (e) {
      const field = unsendableField(method, args);
      throw named('InvalidRequest', `${method}: an argument cannot be sent to the worker (${e.message})`, field);
    }
  }

  snapshotOf(key) {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
    const s = this.state?.[key];
    if (s && s.error) throw revive(s.error);
    return s;
  }

  version() {
    return this.versionText;
  }

  modelStatus() {
    return this.snapshotOf('modelStatus');
  }

  metrics() {
    return this.snapshotOf('metrics');
  }

  cacheStats() {
    return this.snapshotOf('cacheStats');
  }

  takeEvents() {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
    return this.events.splice(0, this.events.length);
  }

  memoryCache() {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
    return this.front;
  }

  cacheGetSync(key) {
    if (typeof key !== 'string') throw named('InvalidRequest', `key: expected a string, got ${typeof key}`, 'key');
    return this.memoryCache().get(key);
  }

  // ---- the sync methods computed on this thread (issue 18): pure functions of their argument, and the flags
  // read from the copy of the worker's. The same Rust code as worker: false answers them, with the same errors.
  cacheKey(parts) {
    this.alive_();
    return this.localSide.run(() => this.localSide.glue.cacheKeyOf(parts));
  }

  // No Disposed check: with worker: false it is a pure function that answers after dispose() too.
  canonicalRequest(moment) {
    return this.localSide.run(() => this.localSide.glue.canonicalRequestOf(moment));
  }

  isEnabled(flag) {
    return this.read((c) => c.isEnabled(flag));
  }

  getFlag(name) {
    return this.read((c) => c.getFlag(name));
  }

  inRollout(key) {
    return this.read((c) => c.inRollout(key));
  }

  // A first exposure is queued here, and the read goes to the worker, which keeps and stores the same assignment.
  variant(experiment) {
    return this.read((c) => {
      const a = c.variant(experiment);
      this.queue(c.takeEvents());
      const out = c.takeOutbox();
      if (out !== undefined) {
        this.flagsSent = c.seq();
        for (const [seq, name] of out) this.worker?.postMessage({ t: 'flags', seq, experiment: name });
      }
      return a;
    });
  }

  alive_() {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
  }

  // Disposed is the copy's to throw, after the argument checks, so bad input gets the name worker: false gives.
  read(f) {
    const copy = this.flags();
    if (this.disposed || this.freed) copy.dispose();
    return this.localSide.run(() => f(copy));
  }

  // The copy lives in this thread's instance: rebuilt from the last snapshot if a trap replaced that instance.
  flags() {
    const side = this.localSide;
    if (this.flagsCopy === null || this.flagsCopy.generation !== side.generation()) {
      const copy = side.run(() => new side.glue.FlagsMirror(this.config, this.state.flags, this.flagsSent));
      this.flagsCopy = { copy, generation: side.generation() };
    }
    return this.flagsCopy.copy;
  }

  observe(event) {
    this.fire('observe', [event]);
  }

  onReport(callback, everyMs) {
    if (typeof callback !== 'function') throw named('InvalidRequest', 'callback: expected a function (metrics) => void', 'callback');
    const id = ++this.ids;
    this.callbacks.set(id, callback);
    this.fire('onReport', [{ __cbId: id }, everyMs]);
    return id;
  }

  offReport(id) {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
    const known = typeof id === 'number' && this.callbacks.delete(id);
    if (known) this.fire('offReport', [id]);
    return known;
  }

  dispose() {
    if (this.disposed || this.freed) return;
    this.worker?.postMessage({ t: 'fire', method: 'dispose', args: [] });
    this.disposed = true;
    // As on the main thread: a view taken from memoryCache() serves nothing once its runtime is disposed.
    this.front._entries.clear();
  }

  free() {
    this.dispose();
    this.freed = true;
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn);
    clearInterval(this.watchdog);
    const w = this.worker;
    this.worker = null;
    // After the dispose message: the worker closes its storage connections first.
    if (w) setTimeout(() => w.terminate(), 1000);
  }
}


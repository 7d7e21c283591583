// The main-thread side of `worker: true` (issue 18): a runtime that lives in a dedicated Web Worker (worker.js),
// behind the same methods. Async methods are one message each way. The sync ones are answered here, from what the
// worker sends with every reply and every STATE_EVERY_MS: modelStatus(), metrics(), cacheStats(), the events
// (takeEvents()), and the memory tier's copy (front_copy.js: memoryCache(), cacheGetSync()). cacheKey(),
// canonicalRequest() and the flag reads (isEnabled, getFlag, variant, inRollout) run here on this thread's instance
// of the module, the flags on a copy of the worker's (FlagsMirror, src/runtime/flags_mirror.rs). observe() and
// onReport() check their arguments with that instance too, then are sent and not waited for, as are offReport() and
// dispose(). The worker gets what it lacks from the page through host.js.
//
// If the worker dies (a trap, out of memory, terminated), every pending call rejects with RuntimeCrashed; the next
// call starts a fresh worker with the same config (storage is where it was, reports run again) and `takeEvents()`
// reports { type: "runtimeRestarted", reason, atMs }. A worker the browser ends silently is caught by watch.js.

import { newWorker, takeSpare } from './compile.js';
import { FrontCopy } from './front_copy.js';
import { PageHost } from './host.js';
import { DeathWatch, quietMsOf } from './watch.js';
import { unsendableField } from './unsendable.js';

const STATE_EVERY_MS = 250;
// Bounds the events kept for takeEvents() (the core's own queues hold 256 each).
const MAX_EVENTS = 1024;

function named(name, message, field) {
  const err = new Error(message);
  err.name = name;
  if (field !== undefined) err.field = field;
  return err;
}
const revive = (e) => named(e.name, e.message, e.field);

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
    // The reports running (onReport), id -> everyMs: held to the same limit as worker: false, and started again
    // in a fresh worker.
    this.reports = new Map();
    this.ids = 0;
    this.disposed = false;
    this.freed = false;
    this.worker = null;
    this.starting = null;
    this.crash = null;
    this.versionText = '';
    this.host = new PageHost((m) => this.worker?.postMessage(m));
  }

  // Where start-up time goes (bench/frame): each step's end, in ms from this page's time origin.
  mark(steps) {
    this.marks ??= {};
    for (const [k, v] of Object.entries(steps)) this.marks[k] = Math.round((v - performance.timeOrigin) * 10) / 10;
  }

  // ---- the worker's life
  async start() {
    this.marks = null;
    this.mark({ start: performance.timeOrigin + performance.now() });
    // A new worker's reads count from 0 again: its copy is made from its create reply (below).
    this.flagsCopy = null;
    this.front._reset();
    // The module compiles in a worker (compile.js), which is then the spare: the first runtime takes it, started.
    const module = await this.module;
    this.mark({ compiled: performance.timeOrigin + performance.now() });
    const w = takeSpare() ?? newWorker();
    this.worker = w;
    this.crash = null;
    this.host.stop();
    const host = this.host.start(this.config);
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
    this.watch(w);
    w.postMessage({ t: 'init', module, assets: this.assets, ...(await host), stateEveryMs: STATE_EVERY_MS });
    await ready;
    this.mark({ ready: performance.timeOrigin + performance.now() });
    this.versionText = await this.send('create', [this.config]);
    this.mark({ createReply: performance.timeOrigin + performance.now() });
    // The create reply carried the first flags snapshot: the sync methods answer from the moment create() resolves.
    this.flagsSent = 0;
    this.flagsCopy = null;
    this.localSide = await this.local;
    this.flags();
    this.mark({ mainInstance: performance.timeOrigin + performance.now() });
    for (const [id, everyMs] of this.reports) this.fire('onReport', [{ __cbId: id }, everyMs]);
  }

  receive(w, m) {
    if (w !== this.worker) return;
    this.watchdog?.heard();
    switch (m.t) {
      case 'ready':
        this.booted = true;
        this.onReady();
        break;
      case 'bootFailed':
        this.onBootFailed(revive(m.error));
        break;
      case 'reply': {
        if (m.marks) this.mark(m.marks);
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
      case 'state': {
        this.take(m.state);
        // Hits and misses served here since the last call: the worker's stats and reports take them in too.
        const hits = this.front._takeHits();
        if (hits !== undefined) w.postMessage({ t: 'hits', hits });
        break;
      }
      case 'front':
        if (m.op === 'set') this.front._entries.set(m.key, { text: m.text, expiresAt: m.expiresAt });
        else if (m.op === 'remove') this.front._entries.delete(m.key);
        else this.front._entries.clear();
        break;
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
        this.host.handle(w, m);
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

  // The watchdog: a worker closed or killed without an error event only goes quiet (watch.js).
  watch(w) {
    this.watchdog?.stop();
    this.booted = false;
    this.watchdog = new DeathWatch(
      () => {
        if (this.booted && this.pending.size === 0) return undefined;
        let quietMs = 0;
        for (const call of this.pending.values()) quietMs = Math.max(quietMs, call.quietMs ?? 0);
        return quietMs;
      },
      (message) => this.died(w, message),
    );
  }

  died(w, message) {
    if (w !== this.worker) return;
    this.watchdog?.stop();
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
      const quietMs = quietMsOf(method, args);
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

  // The worker's last stats, plus what this thread's copy served or missed that they do not hold yet.
  cacheStats() {
    const s = this.snapshotOf('cacheStats');
    const heard = this.state?.fromMain;
    if (!s || !heard) return s;
    return {
      ...s,
      hits: { ...s.hits, memory: s.hits.memory + Math.max(0, this.front._served - heard.served) },
      syncMisses: s.syncMisses + Math.max(0, this.front._missed - heard.missed),
    };
  }

  takeEvents() {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
    return this.events.splice(0, this.events.length);
  }

  memoryCache() {
    if (this.freed || this.disposed) throw named('Disposed', 'this runtime was disposed');
    return this.front;
  }

  // The key checked by the same Rust code as worker: false; a miss counted as syncMisses, as there.
  cacheGetSync(key) {
    const side = this.localSide;
    side.run(() => side.glue.checkCacheKey(key));
    const text = this.memoryCache().get(key);
    if (text === undefined) this.front._missed += 1;
    return text;
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

  // Checked here as well as in the worker (a few µs), so a bad event throws in the game's call as with worker:
  // false; the worker still gets it, to count it as rejected in metrics().pregen.
  observe(event) {
    const side = this.localSide;
    const refused = side.run(() => side.glue.checkObserveEvent(event, this.disposed || this.freed));
    if (refused !== undefined) {
      try {
        this.fire('observe', [event]);
      } catch {
        // It cannot be posted: refused here all the same.
      }
      throw refused;
    }
    this.fire('observe', [event]);
  }

  onReport(callback, everyMs) {
    if (typeof callback !== 'function') throw named('InvalidRequest', 'callback: expected a function (metrics) => void', 'callback');
    this.alive_();
    const side = this.localSide;
    side.run(() => side.glue.checkReport(everyMs, this.reports.size));
    const id = ++this.ids;
    this.reports.set(id, everyMs);
    this.callbacks.set(id, callback);
    this.fire('onReport', [{ __cbId: id }, everyMs]);
    return id;
  }

  // As with worker: false: dispose() ended every report, so a disposed runtime has none to stop (false, no throw).
  offReport(id) {
    if (this.freed || this.disposed) return false;
    const known = typeof id === 'number' && this.reports.delete(id) && this.callbacks.delete(id);
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
    this.host.stop();
    this.watchdog?.stop();
    const w = this.worker;
    this.worker = null;
    // After the dispose message: the worker closes its storage connections first.
    if (w) setTimeout(() => w.terminate(), 1000);
  }
}


// The package entry. It loads the WebAssembly module (wasm-bindgen's `web` target) and hands out `UnwrittenAI`
// objects that forward to the module's, with one addition: a trap in the module (a panic aborts the instance for
// the whole page) never leaves a call hanging or a later call failing obscurely. Every pending and later call on
// a runtime of the trapped instance rejects (or throws) an Error named "RuntimeCrashed", and
// `UnwrittenAI.create()` afterwards starts on a fresh instance of the same module. Storage outlives the crash.
// The runtime runs in a dedicated Web Worker (proxy.js, worker.js) wherever one starts, unless the config says
// `worker: false`. The module compiles in a worker either way (compile.js); this thread instantiates it too, for the
// sync methods the proxy answers here (cacheKey, canonicalRequest, the flag reads).
// finish-pkg.mjs copies this file into pkg/ and fills in the model file names.
import __wbg_init, * as glue from './unwritten_ai.js';
import * as self from './index.js';
import { WorkerRuntime } from './proxy.js';
import { compileModule, dropSpare, compiledInAWorker } from './compile.js';

const WASM_URL = new URL('./unwritten_ai_bg.wasm', import.meta.url);
// The bundled model: the bundler emits these files and turns each URL into the address it serves them at.
const MODEL_ASSETS = [
  new URL('./model/manifest.json', import.meta.url).href,
  new URL('./model/__MODEL_FILE__', import.meta.url).href,
  new URL('./model/__VOCAB_FILE__', import.meta.url).href,
  new URL('./model/__BANK_FILE__', import.meta.url).href,
];

let booting = null;
// The instance the module runs on now; bumped at each trap. A runtime lives on the instance it was created on.
let generation = 0;
// generation -> the message of the trap that ended it.
const crashes = new Map();
// Whether the current instance has the model URLs and the crash handler (module state dies with an instance).
let hooked = false;
// The calls in flight, so a trap can reject them.
const pending = new Set();
// façade -> { inner, generation }
const runtimes = new WeakMap();

function crashedError(gen) {
  const message = crashes.get(gen) ?? 'an earlier trap';
  const err = new Error(
    `the WebAssembly instance trapped (${message}); this runtime is gone: create a new one with UnwrittenAI.create()`,
  );
  err.name = 'RuntimeCrashed';
  return err;
}

// The instance `gen` trapped: reject what is in flight, and move to a fresh instance at once, while the trapped
// one may still be on the stack. Left to itself, wasm-bindgen's glue would swap instances at the next call into
// the module, after converting that call's arguments into the old instance's memory, and a timer or storage
// callback of the old instance could run one of its closures on the new one.
function ended(gen, message) {
  if (gen !== generation) return;
  crashes.set(gen, String(message).slice(0, 500));
  generation += 1;
  for (const call of pending) if (call.generation === gen) call.reject(crashedError(gen));
  for (const call of pending) if (call.generation === gen) pending.delete(call);
  hooked = false;
  try {
    glue.__freshInstance();
    hook();
  } catch {
    // create() tries again.
  }
}

// From the panic hook, inside the trapping instance, before it aborts (it asked for a fresh instance already).
function onCrash(message) {
  ended(generation, message);
}

// A trap that is not a panic (out of memory) reaches us only as a RuntimeError thrown out of a call.
function noteTrap(e, gen) {
  if (!(e instanceof WebAssembly.RuntimeError)) return false;
  if (gen === generation) {
    try {
      glue.__scheduleReinit();
    } catch {
      // The instance is beyond even that; the next call fails loudly rather than hangs.
    }
    ended(gen, e.message);
  }
  return true;
}

function hook() {
  if (hooked) return;
  glue.setDefaultModelAssets(...MODEL_ASSETS);
  glue.setCrashHandler(onCrash);
  hooked = true;
}

// The compiled module, shared by this thread's instance and every worker's (a WebAssembly.Module is posted to a
// worker without a copy). It compiles in a worker (compile.js); instantiating here waits until a runtime is
// created (worker mode: for its sync methods, without tract's registrations, `__runCtors`).
let compiling = null;
function compile() {
  compiling ??= compileModule(WASM_URL).catch((e) => {
    compiling = null;
    throw e;
  });
  return compiling;
}

function boot() {
  booting ??= compile().then((module) => __wbg_init({ module_or_path: module })).then(
    () => hook(),
    (e) => {
      booting = null;
      throw e;
    },
  );
  return booting;
}

// Worker mode's sync methods run on this thread's instance (proxy.js): instantiated while the worker starts, so
// they answer as soon as create() resolves, with the same code and errors as worker: false.
function localSide() {
  return boot().then(() => ({
    glue,
    run: call,
    generation: () => generation,
  }));
}

// Calls into the module: a sync trap becomes RuntimeCrashed, a promise is tracked until it settles.
function call(f) {
  const gen = generation;
  let out;
  try {
    out = f();
  } catch (e) {
    if (noteTrap(e, gen)) throw crashedError(gen);
    throw e;
  }
  if (out === null || typeof out !== 'object' || typeof out.then !== 'function') return out;
  return new Promise((resolve, reject) => {
    const entry = { reject, generation: gen };
    pending.add(entry);
    out.then(
      (v) => {
        pending.delete(entry);
        resolve(v);
      },
      (e) => {
        pending.delete(entry);
        reject(noteTrap(e, gen) ? crashedError(gen) : e);
      },
    );
  });
}

function inner(facade) {
  const rt = runtimes.get(facade);
  if (rt === undefined) throw new TypeError('not an UnwrittenAI: create one with await UnwrittenAI.create(config)');
  return rt.generation === generation ? rt.inner : null;
}

/** The character AI runtime. Create one with `await UnwrittenAI.create(config)`. */
export class UnwrittenAI {
  constructor() {
    throw new TypeError('use await UnwrittenAI.create(config)');
  }

  static async create(config) {
    // `worker` is this entry's option, not the module's: taken out before the config goes on. Left out, it is true
    // where a worker started (the module compiled in one), and false on a page that has or allows none.
    let useWorker = null;
    if (config !== null && typeof config === 'object' && 'worker' in config) {
      const { worker, ...rest } = config;
      if (worker !== undefined && typeof worker !== 'boolean') {
        const err = new Error(`worker: expected true or false, got ${typeof worker}`);
        err.name = 'InvalidConfig';
        err.field = 'worker';
        throw err;
      }
      useWorker = worker ?? null;
      config = rest;
    }
    if (useWorker === null) {
      await compile();
      useWorker = compiledInAWorker();
    }
    if (useWorker) {
      const proxy = new WorkerRuntime(config, { module: compile(), assets: MODEL_ASSETS, local: localSide() });
      try {
        await proxy.start();
      } catch (e) {
        proxy.free();
        throw e;
      }
      const facade = Object.create(UnwrittenAI.prototype);
      runtimes.set(facade, { proxy });
      return facade;
    }
    await boot();
    // No worker runtime is wanted: the worker that compiled the module goes.
    dropSpare();
    if (!hooked) {
      // A trap, and the swap to a fresh instance failed then: try again.
      glue.__freshInstance();
      hook();
    }
    // tract's registrations, once per instance (wasm/src/lib.rs): only a runtime on this thread needs them.
    call(() => glue.__runCtors());
    const made = generation;
    const rt = await call(() => glue.UnwrittenAI.create(config));
    const facade = Object.create(UnwrittenAI.prototype);
    runtimes.set(facade, { inner: rt, generation: made });
    return facade;
  }

  /** Releases storage connections; later calls reject with `Disposed`. Safe to call twice, and after a crash. */
  dispose() {
    const proxy = runtimes.get(this)?.proxy;
    if (proxy) return proxy.dispose();
    const rt = inner(this);
    if (rt !== null) call(() => rt.dispose());
  }

  free() {
    const proxy = runtimes.get(this)?.proxy;
    if (proxy) {
      runtimes.delete(this);
      return proxy.free();
    }
    const rt = inner(this);
    runtimes.delete(this);
    if (rt !== null) call(() => rt.free());
  }
}

// Every other method forwards. Listed by name rather than copied from the glue's prototype, so a method the
// module adds without a line here fails the consumer type-check (tests/consumer) instead of shipping unguarded.
const FORWARDED = [
  'version', 'metrics', 'refreshDevice', 'analyze', 'analyzeBatch', 'loadModel', 'modelStatus', 'generate',
  'takeEvents', 'cacheKey', 'cacheGet', 'cacheGetSync', 'cachePut', 'cachePutMany', 'cacheInvalidate', 'clearCache',
  'cacheStats', 'memoryCache', 'isEnabled', 'getFlag', 'variant', 'inRollout', 'refreshFlags', 'onReport',
  'offReport', 'observe', 'canonicalRequest', 'checkForModelUpdate', 'rollbackModel',
];
for (const name of FORWARDED) {
  Object.defineProperty(UnwrittenAI.prototype, name, {
    value: function (...args) {
      const proxy = runtimes.get(this)?.proxy;
      if (proxy) return ASYNC.has(name) ? proxy.call(name, args) : proxy[name](...args);
      const rt = inner(this);
      if (rt === null) {
        const err = crashedError(runtimes.get(this).generation);
        // Async methods reject, sync ones throw: the same shape as every other error they give.
        if (ASYNC.has(name)) return Promise.reject(err);
        throw err;
      }
      return call(() => rt[name](...args));
    },
    writable: true,
    configurable: true,
  });
}
const ASYNC = new Set([
  'refreshDevice', 'analyze', 'analyzeBatch', 'loadModel', 'generate', 'cacheGet', 'cachePut', 'cachePutMany',
  'cacheInvalidate', 'clearCache', 'refreshFlags', 'checkForModelUpdate', 'rollbackModel',
]);
if (Symbol.dispose) UnwrittenAI.prototype[Symbol.dispose] = UnwrittenAI.prototype.free;

/**
 * Loads the WebAssembly module (it starts loading when this package is imported) and resolves to this package's
 * exports. `UnwrittenAI.create()` waits for it too, so calling init() is optional.
 */
export default async function init() {
  await compile();
  return self;
}

/** For the package's crash tests only: traps the instance ("sync" or "async"); with `ai` of `worker: true`, its
 * worker's instance, or ("silent") closes its worker with no error event, as a browser kills one. */
export function __forceTrap(kind, ai) {
  const proxy = ai === undefined ? undefined : runtimes.get(ai)?.proxy;
  if (proxy) return proxy.call('__forceTrap', [kind]);
  if (kind === 'silent') {
    const err = new Error('__forceTrap("silent", ai): only a runtime created with worker: true has a worker to close');
    err.name = 'InvalidRequest';
    return Promise.reject(err);
  }
  return boot().then(() => call(() => glue.__forceTrap(kind)));
}

/** For the package's benchmark only: one message to `ai`'s worker and back (worker: true), else undefined. */
export function __roundTrip(ai) {
  return runtimes.get(ai)?.proxy?.ping();
}

/** For the package's benchmark only: when each step of `ai`'s worker start ended (ms from the page's time origin). */
export function __bootMarks(ai) {
  return runtimes.get(ai)?.proxy?.marks ?? undefined;
}

// Start fetching and compiling now; a failure surfaces from init() or create(), which retry.
compile().catch(() => {});

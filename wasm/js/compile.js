// Where the module compiles (issue 18). Chromium feeds a streaming compile's bytes to V8 on the thread that
// called compileStreaming, in batches of 5-24 ms, and when the bytes come fast several batches fall into one
// main-thread task over 50 ms (docs/performance.md, "Cold start"). So a worker fetches and compiles the module: its
// response keeps its URL, so Chromium's compiled-code cache still serves a warm start, and the WebAssembly.Module
// it posts back is shared, not copied. That worker then waits as the spare: the first `worker: true` runtime
// takes it, already started, instead of starting its own. Where no worker can start (no Worker, or a page whose
// policy forbids it), this thread compiles as before.
import { compileFrom } from './streaming.js';

/** The runtime's worker (worker.js). In one place, in the form bundlers recognise and emit with no configuration. */
export function newWorker() {
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'unwritten-ai' });
}

let spare = null;
// Whether the module compiled in a worker: then workers start on this page, and `worker` defaults to true.
let compiledInWorker = false;

/** Whether a worker started and compiled the module (known once compileModule has resolved). */
export function compiledInAWorker() {
  return compiledInWorker;
}

/** The worker that compiled the module, for the first worker-mode runtime to take (once), or null. */
export function takeSpare() {
  const w = spare;
  spare = null;
  return w;
}

/** The page runs without workers after all (`worker: false`): the spare would only hold memory. */
export function dropSpare() {
  takeSpare()?.terminate();
}

function inWorker(url) {
  let w;
  try {
    w = newWorker();
  } catch {
    return null;
  }
  return new Promise((resolve, reject) => {
    const settle = (ok, value) => {
      w.onmessage = null;
      w.onerror = null;
      if (ok) {
        compiledInWorker = true;
        takeSpare()?.terminate();
        spare = w;
        resolve(value);
      } else {
        w.terminate();
        reject(value);
      }
    };
    w.onmessage = (ev) => {
      const m = ev.data;
      if (m?.t === 'compiled') settle(true, m.module);
      else if (m?.t === 'compileFailed') {
        const err = new Error(m.error?.message ?? 'the module did not compile');
        err.name = m.error?.name ?? 'Error';
        settle(false, err);
      }
    };
    // The script did not load or run (a policy, a bundler that did not emit it): compile here instead.
    w.onerror = (ev) => {
      ev.preventDefault?.();
      settle(false, null);
    };
    w.postMessage({ t: 'compile', url: String(url) });
  });
}

/** Fetches and compiles the module at `url`, in a worker where one starts. */
export async function compileModule(url) {
  const compiling = inWorker(url);
  if (compiling === null) return compileFrom(url);
  try {
    return await compiling;
  } catch (e) {
    // The compile itself failed in the worker (the network, a bad module): the same failure here, no second try.
    if (e !== null) throw e;
    return compileFrom(url);
  }
}

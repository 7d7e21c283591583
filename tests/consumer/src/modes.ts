// The modes page (modes.html): the package's public contract as a list of named cases, run against
// `UnwrittenAI.create({ ...config, worker })` with `worker` from the URL (`?worker=1`), so one suite checks both
// the main-thread runtime and the Web Worker one behind its proxy. The mock cloud and the model server come in
// as `?mock=` and `?models=` (scripts/test starts them); `?only=text` runs the cases whose name contains it.
// The outcome of every case goes into #out as JSON for tests/e2e/modes.mjs. The Rust browser suite
// (tests/browser*.rs) checks the internals on the main thread; this one checks what a game sees, in both modes.
import init from 'unwritten-ai';
import { caught, show } from './report';
import { BASICS } from './modes/basics';
import { CACHE } from './modes/cache';
import { FLAGS } from './modes/flags';
import { type Case, ENV, T } from './modes/harness';
import { HOSTILE } from './modes/hostile';
import { LIFECYCLE } from './modes/lifecycle';
import { MODEL } from './modes/model';
import { PREGEN } from './modes/pregen';
import { ROUTER } from './modes/router';

const CASES: Case[] = [...BASICS, ...CACHE, ...MODEL, ...ROUTER, ...FLAGS, ...PREGEN, ...LIFECYCLE, ...HOSTILE];
/** A case that has not settled in this long has failed (a hang is a failure, not a stuck page). */
const CASE_LIMIT_MS = 90_000;

// Counts the workers this page starts, so the 'mode' case can tell the runtime really moved off this thread.
const Native = globalThis.Worker;
(globalThis as { __workers?: number }).__workers = 0;
globalThis.Worker = class extends Native {
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    (globalThis as { __workers?: number }).__workers! += 1;
  }
} as typeof Worker;

interface Outcome {
  name: string;
  ok: boolean;
  error: string | null;
  ms: number;
  note?: unknown;
}

/** A short id for the case's namespaces: its index, so ids stay within the namespace's 32 characters. */
const idOf = (i: number) => `c${i}`;

async function runCase(c: Case, i: number): Promise<Outcome> {
  const t = new T(idOf(i));
  const t0 = performance.now();
  let error: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no outcome after ${CASE_LIMIT_MS / 1000} s`)), CASE_LIMIT_MS);
    });
    await Promise.race([c.run(t), limit]);
  } catch (e) {
    const c2 = caught(e);
    error = c2.name === 'CheckFailed' || c2.name === 'Error' ? c2.message : `${c2.name}: ${c2.message}`;
  } finally {
    clearTimeout(timer);
    t.dispose();
  }
  return { name: c.name, ok: error === null, error, ms: Math.round(performance.now() - t0), note: t.note };
}

async function main() {
  await init();
  const names = new Set<string>();
  for (const c of CASES) {
    if (names.has(c.name)) throw new Error(`two cases named ${c.name}`);
    names.add(c.name);
  }
  const results: Outcome[] = [];
  for (const [i, c] of CASES.entries()) {
    if (ENV.only !== null && !c.name.includes(ENV.only)) continue;
    const out = await runCase(c, i);
    results.push(out);
    const o = document.getElementById('out');
    if (o) o.dataset.progress = `${results.length}/${CASES.length}`;
  }
  return { mode: ENV.worker ? 'worker' : 'main', total: CASES.length, results };
}

main().then(
  (report) => show('done', JSON.stringify(report)),
  (e) => show('error', `${caught(e).name}: ${caught(e).message}`),
);

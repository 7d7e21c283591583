// What the modes suite's cases (tests/consumer/src/modes/*.ts) share: the mode under test, the servers, runtimes
// created in that mode and disposed after each case, and checks that throw with what was seen.
import { UnwrittenAI, __roundTrip, type UnwrittenConfig } from 'unwritten-ai';
import { type Caught, failure } from '../report';

const params = new URLSearchParams(location.search);

/** The config's `worker` from `?worker=1|0|default` (default: left out), whether the runtimes must then run in a
 *  worker (`?expect=worker|main`), and the servers scripts/test starts (`?mock=`, `?models=`). */
export const ENV = {
  option: ({ '1': true, '0': false } as Record<string, boolean | undefined>)[params.get('worker') ?? ''],
  worker: params.get('expect') === 'worker',
  mock: (params.get('mock') ?? 'http://127.0.0.1:8787').replace(/\/$/, ''),
  models: (params.get('models') ?? 'http://127.0.0.1:8788/').replace(/\/?$/, '/'),
  only: params.get('only'),
};

/** Per page load, so two runs never share a namespace (storage outlives a run in Firefox's profile too). */
const RUN = Math.floor(Math.random() * 36 ** 5).toString(36);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class CheckFailed extends Error {
  override name = 'CheckFailed';
}

/** One case's context. */
export class T {
  readonly runtimes: UnwrittenAI[] = [];
  /** Data a case reports for modes.mjs to compare between the two modes (the hostile cases' error names). */
  note: unknown = undefined;

  constructor(readonly id: string) {}

  /** A namespace of this case and run: `id` (a-z 0-9 -, at most 20) plus the run and the mode. */
  ns(suffix = ''): string {
    return `${this.id}${suffix}-${RUN}${ENV.worker ? 'w' : 'm'}`.slice(0, 32);
  }

  /** `UnwrittenAI.create` in the mode under test; disposed when the case ends. */
  async create(config: UnwrittenConfig): Promise<UnwrittenAI> {
    const ai = await UnwrittenAI.create(ENV.option === undefined ? config : { ...config, worker: ENV.option });
    this.runtimes.push(ai);
    // Where it runs: only a worker-mode runtime answers the package's round-trip probe.
    const probe = __roundTrip(ai);
    probe?.catch(() => {});
    this.ok((probe !== undefined) === ENV.worker, `the runtime runs ${ENV.worker ? 'in a worker' : 'on the page\'s thread'}`);
    return ai;
  }

  /** The bundled model's files on the static server (so the runtime reads them over HTTP, as in the Rust suite). */
  model(extra: Record<string, unknown> = {}): NonNullable<UnwrittenConfig['model']> {
    return { strategy: 'onDemand', manifestUrl: `${ENV.models}manifest.json`, ...extra };
  }

  /** An OpenAI-compatible gateway on the mock cloud, `extra` merged over it. */
  cloud(extra: Record<string, unknown> = {}): NonNullable<UnwrittenConfig['cloud']> {
    return { providers: { gateway: { kind: 'openai', baseUrl: `${ENV.mock}/v1` } }, ...extra } as NonNullable<UnwrittenConfig['cloud']>;
  }

  ok(cond: unknown, what: string): void {
    if (!cond) throw new CheckFailed(what);
  }

  eq(actual: unknown, expected: unknown, what: string): void {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e) throw new CheckFailed(`${what}: expected ${e}, got ${a}`);
  }

  /** How a call failed (null: it did not). */
  fails(call: () => unknown): Promise<Caught | null> {
    return failure(call);
  }

  /** The call fails with `name` (and `field`, when given). */
  async rejects(call: () => unknown, name: string, what: string, field?: string): Promise<Caught> {
    const c = await failure(call);
    this.ok(c !== null, `${what}: expected ${name}, but it did not fail`);
    const got = c as Caught;
    this.eq(got.name, name, `${what}: error name (${got.message})`);
    if (field !== undefined) this.eq(got.field, field, `${what}: error field`);
    return got;
  }

  /** Polls `read` until `done` holds, at most `limitMs`; returns the last value (the caller checks it). */
  async until<V>(read: () => V | Promise<V>, done: (v: V) => boolean, limitMs = 15_000): Promise<V> {
    const end = Date.now() + limitMs;
    for (;;) {
      const v = await read();
      if (done(v) || Date.now() > end) return v;
      await sleep(100);
    }
  }

  dispose(): void {
    for (const ai of this.runtimes) {
      try {
        ai.dispose();
      } catch {
        // Already disposed by the case, or its runtime crashed on purpose.
      }
    }
  }
}

async function http(base: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text}`);
  return text === '' ? null : JSON.parse(text);
}

/** The mock cloud's control API (scripts/mock-cloud.mjs). */
export const mock = (path: string, body?: unknown) => http(ENV.mock, path, body) as Promise<Record<string, any>>;
/** The model server's control API (scripts/static-server.mjs). */
export const models = (path: string, body?: unknown) => http(ENV.models.replace(/\/$/, ''), `/${path}`, body) as Promise<Record<string, any>>;

/** No faults, counters zeroed, then `faults`. */
export async function resetMock(faults: Record<string, unknown> = {}): Promise<void> {
  await mock('/__reset', {});
  await mock('/__faults', faults);
}

export const stat = async (name: string): Promise<number> => (await mock('/__stats'))[name];

/** Forgets what an earlier run left under `ns`: its IndexedDB database and localStorage keys. */
export async function forget(ns: string): Promise<void> {
  for (const k of Object.keys(localStorage)) if (k.startsWith(`${ns}:`)) localStorage.removeItem(k);
  await new Promise<void>((resolve) => {
    const r = indexedDB.deleteDatabase(`${ns}-unwritten-ai`);
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  });
}

export interface Case {
  name: string;
  run(t: T): Promise<void>;
}

// The crash page (crash.html): a trap in the WebAssembly instance, forced on purpose, must not hang a call or break
// the page. Every pending and later call on the trapped runtime rejects with RuntimeCrashed, a new runtime works on
// a fresh instance, and what the cache stored before the crash is still there. Reported into #out for
// tests/e2e/run.mjs.
import { UnwrittenAI, __forceTrap, type GenerateRequest, type UnwrittenConfig } from 'unwritten-ai';
import { WORDS } from './expect';
import { type Caught, caught, failure, show } from './report';

// worker: false: the traps below are forced in this thread's instance, so the runtimes must run on it.
const config: UnwrittenConfig = {
  worker: false,
  namespace: 'consumer-crash',
  model: { strategy: 'onDemand' },
  storage: { localStorage: true, indexedDb: true },
  cloud: { localTimeoutMs: 2000 },
};
const greeting: GenerateRequest = {
  type: 'greeting',
  npc: { id: 'bram', name: 'Bram', personality: 'gruff, loyal' },
  context: { playerText: 'Any work for me today?', scene: 'the forge' },
  playerId: 'p-1',
};
const KEPT = 'The forge remembers you.';

type Outcome = { settled: 'resolved' | 'rejected' | 'hung'; error: Caught | null };

/** How a promise ended, or "hung" after 10 s (a promise of a trapped instance used to stay pending forever). */
async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  const hung = new Promise<Outcome>((resolve) => setTimeout(() => resolve({ settled: 'hung', error: null }), 10_000));
  const ended = (async (): Promise<Outcome> => {
    try {
      await call();
      return { settled: 'resolved', error: null };
    } catch (e) {
      return { settled: 'rejected', error: caught(e) };
    }
  })();
  return Promise.race([ended, hung]);
}

/** How a promise ended, waiting at most `ms` (the worker's watchdog takes about 10 s to declare a silent death). */
async function outcomeWithin(call: () => Promise<unknown>, ms: number): Promise<Outcome> {
  const hung = new Promise<Outcome>((resolve) => setTimeout(() => resolve({ settled: 'hung', error: null }), ms));
  const ended = call().then(
    (): Outcome => ({ settled: 'resolved', error: null }),
    (e: unknown): Outcome => ({ settled: 'rejected', error: caught(e) }),
  );
  return Promise.race([ended, hung]);
}

/**
 * worker: true, and the worker ends with no error event, as a browser ends one it kills for memory: the call that
 * closed it and the one sent after it (never read) reject with RuntimeCrashed once the proxy has heard nothing for
 * a while, the next call answers on a fresh worker, and takeEvents() reports one runtimeRestarted.
 */
async function silentDeath() {
  const ai = await UnwrittenAI.create({ ...config, namespace: 'consumer-silent', worker: true });
  await ai.loadModel();
  const before = (await ai.analyze('Thank you so much, you saved my life!')).sentiment.label;
  ai.takeEvents();
  const closing = outcomeWithin(() => __forceTrap('silent', ai), 120_000);
  const waiting = outcomeWithin(() => ai.analyze('Are you still there?'), 120_000);
  const [closed, pending] = await Promise.all([closing, waiting]);
  const after = await outcomeWithin(() => ai.analyze('Get out of my sight, you filthy thief!'), 120_000);
  const label = after.settled === 'resolved' ? (await ai.analyze('Get out of my sight, you filthy thief!')).sentiment.label : null;
  const restarts = ai.takeEvents().filter((e) => e.type === 'runtimeRestarted');
  const later = ai.takeEvents().filter((e) => e.type === 'runtimeRestarted').length;
  const mainThread = await failure(() => __forceTrap('silent'));
  ai.free();
  return {
    before,
    closed,
    pending,
    after,
    label,
    restarts: restarts.length + later,
    reason: restarts[0]?.reason ?? null,
    mainThread: mainThread?.name ?? null,
  };
}

/** A fresh runtime answers: generate() gives text, analyze() a label, and the line kept before the crash is found. */
async function works(ai: UnwrittenAI, key: string) {
  const line = await ai.generate(greeting);
  const analysis = await ai.analyze('Get out of my sight, you filthy thief!');
  const kept = await ai.cacheGet(key);
  return { text: line.text, label: analysis.sentiment.label, kept: kept?.text ?? null };
}

async function main() {
  const first = await UnwrittenAI.create(config);
  await first.loadModel();
  const key = first.cacheKey({ character: 'bram', type: 'greeting', player: 'p-1' });
  await first.cachePut(key, KEPT, 0.9);
  const before = await first.generate(greeting);

  // A trap inside a future, on a later turn, with another call in flight.
  const inflight = outcome(() => first.refreshDevice());
  const asyncTrap = await outcome(() => __forceTrap('async'));
  const afterAsync = {
    inflight: await inflight,
    generate: await outcome(() => first.generate(greeting)),
    version: await failure(() => first.version()),
    dispose: await failure(() => first.dispose()),
  };
  const second = await UnwrittenAI.create(config);
  await second.loadModel();
  const secondWorks = await works(second, key);

  // A trap inside a call.
  const syncTrap = await outcome(() => __forceTrap('sync'));
  const afterSync = { generate: await outcome(() => second.generate(greeting)) };
  const third = await UnwrittenAI.create(config);
  await third.loadModel();
  const thirdWorks = await works(third, key);
  third.dispose();

  const silent = await silentDeath();

  return {
    expected: { crashed: WORDS.crashed, kept: KEPT, label: WORDS.hostile },
    before: before.text,
    asyncTrap,
    afterAsync,
    secondWorks,
    syncTrap,
    afterSync,
    thirdWorks,
    silent,
  };
}

main().then(
  (report) => show('done', JSON.stringify(report)),
  (err) => show('error', JSON.stringify(caught(err))),
);

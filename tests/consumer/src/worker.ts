// The worker page (worker.html): the same game with `worker: true`, so the runtime runs in the package's Web Worker
// (wasm/js/worker.js, emitted by the game's webpack with no configuration). Every call the game makes goes through
// the main-thread proxy; the outcome of each goes into #out for tests/e2e/worker.mjs. The six sync methods computed
// on this thread (cacheKey, canonicalRequest and the flag reads) are compared with a `worker: false` runtime of the
// same config on the same page, bad input included.
import init, {
  UnwrittenAI,
  __forceTrap,
  type GenerateRequest,
  type ModelStatus,
  type UnwrittenConfig,
  type UnwrittenMetrics,
} from 'unwritten-ai';
import { WORDS } from './expect';
import { caught, failure, show } from './report';

const NS = 'consumer-worker';
const config: UnwrittenConfig = {
  namespace: NS,
  worker: true,
  model: { strategy: 'onDemand' },
  storage: { localStorage: true, indexedDb: true },
  cloud: { localTimeoutMs: 2000 },
  // No playerId: experiments and rollouts hash the anonymous id the worker keeps in localStorage.
  flags: {
    defaults: { npcMood: 'calm' },
    experiments: { local_first: { variants: ['A', 'B'] }, tone: { variants: ['warm', 'curt', 'odd'], coverage: 0.5 } },
    rollouts: [{ key: 'r10', percentage: 10 }, { key: 'r50', percentage: 50 }, { key: 'r90', percentage: 90 }],
  },
};
const greeting: GenerateRequest = {
  type: 'greeting',
  npc: { id: 'bram', name: 'Bram', personality: 'gruff, loyal' },
  context: { playerText: 'Any work for me today?', scene: 'the forge', relationshipLevel: 6 },
  importance: 0.4,
  playerId: 'p-1',
};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function settled(ai: UnwrittenAI, done: (s: ModelStatus) => boolean): Promise<ModelStatus> {
  for (let i = 0; i < 300 && !done(ai.modelStatus()); i++) await sleep(100);
  return ai.modelStatus();
}

type Outcome = { ok: unknown } | { name: string; field: string | null };

function outcome(f: () => unknown): Outcome {
  try {
    return { ok: f() ?? null };
  } catch (e) {
    return { name: caught(e).name, field: caught(e).field };
  }
}

const LONG = 'x'.repeat(5000);
// Each call with good and bad input, as a game might make it.
const SYNC_CALLS: [string, (ai: UnwrittenAI) => unknown][] = [
  ['cacheKey', (ai) => ai.cacheKey({ character: 'bram', type: 'greeting', player: 'p-1', context: { scene: 'forge' } })],
  ['cacheKey {}', (ai) => ai.cacheKey({} as never)],
  ['cacheKey null', (ai) => ai.cacheKey(null as never)],
  ['cacheKey bad type', (ai) => ai.cacheKey({ character: 'bram', type: 7 } as never)],
  ['canonicalRequest', (ai) => ai.canonicalRequest({ character: { id: 'bram', name: 'Bram' }, responseType: 'question', topic: 'Any news?', scene: 'the forge', importance: 0.4 })],
  ['canonicalRequest 42', (ai) => ai.canonicalRequest(42 as never)],
  ['canonicalRequest no character', (ai) => ai.canonicalRequest({ topic: 'x' } as never)],
  ['isEnabled useLocalAi', (ai) => ai.isEnabled('useLocalAi')],
  ['isEnabled nope', (ai) => ai.isEnabled('nope')],
  ['isEnabled 42', (ai) => ai.isEnabled(42 as never)],
  ['getFlag npcMood', (ai) => ai.getFlag('npcMood')],
  ['getFlag localAiThreshold', (ai) => ai.getFlag('localAiThreshold')],
  ['getFlag nope', (ai) => ai.getFlag('nope')],
  ['getFlag long', (ai) => ai.getFlag(LONG)],
  ['inRollout r10', (ai) => ai.inRollout('r10')],
  ['inRollout r50', (ai) => ai.inRollout('r50')],
  ['inRollout r90', (ai) => ai.inRollout('r90')],
  ['inRollout nope', (ai) => ai.inRollout('nope')],
  ['inRollout undefined', (ai) => ai.inRollout(undefined as never)],
  ['variant local_first', (ai) => ai.variant('local_first')],
  ['variant tone', (ai) => ai.variant('tone')],
  ['variant local_first again', (ai) => ai.variant('local_first')],
  ['variant nope', (ai) => ai.variant('nope')],
  ['variant {}', (ai) => ai.variant({} as never)],
];

async function compareSync(ai: UnwrittenAI) {
  ai.takeEvents();
  const local = await UnwrittenAI.create({ ...config, worker: false });
  const differ: string[] = [];
  const seen: Record<string, Outcome> = {};
  for (const [what, f] of SYNC_CALLS) {
    const here = outcome(() => f(local));
    const there = outcome(() => f(ai));
    seen[what] = there;
    if (JSON.stringify(here) !== JSON.stringify(there)) differ.push(`${what}: ${JSON.stringify(there)} vs ${JSON.stringify(here)}`);
  }
  const exposures = (events: { type: string }[]) => events.filter((e) => e.type === 'experimentExposure').length;
  const inTone = (seen['variant tone'] as { ok?: { inExperiment?: boolean } }).ok?.inExperiment === true;
  // At once (queued on this thread), and none more once the worker has replayed the reads and sent its state.
  const atOnce = exposures(ai.takeEvents());
  const localExposures = exposures(local.takeEvents());
  await ai.refreshDevice();
  await sleep(600);
  const later = exposures(ai.takeEvents());
  // After an awaited call the answers still agree (the worker's snapshot now holds the reads), and stick.
  const after = JSON.stringify(outcome(() => ai.variant('local_first'))) === JSON.stringify(outcome(() => local.variant('local_first')));
  local.free();
  return { calls: SYNC_CALLS.length, differ, seen, exposures: { atOnce, later, local: localExposures, expected: inTone ? 2 : 1 }, after };
}

async function main() {
  await init();
  const badWorker = await failure(() => UnwrittenAI.create({ ...config, worker: 'yes' as unknown as boolean }));
  const badConfig = await failure(() => UnwrittenAI.create({ ...config, namespace: 'NOT VALID' }));
  const ai = await UnwrittenAI.create(config);
  const version = ai.version();

  let progressCalls = 0;
  const loaded = await ai.loadModel(() => {
    progressCalls += 1;
  });
  const status = await settled(ai, (s) => s.responseBank === WORDS.bankReady || s.responseBank === WORDS.bankFailed);
  const hostile = await ai.analyze('Get out of my sight, you filthy thief!');
  const batch = await ai.analyzeBatch(['Thank you so much, you saved my life!', 'Get out of my sight, you filthy thief!']);
  const badAnalyze = await failure(() => ai.analyze(42 as unknown as string));

  const first = await ai.generate(greeting);
  const second = await ai.generate(greeting);
  const badGenerate = await failure(() => ai.generate({ ...greeting, importance: 2 }));
  // A function cannot cross to the worker: refused by name, like any other bad request.
  const unsendable = await failure(() => ai.generate({ ...greeting, npc: { ...greeting.npc, id: (() => 1) as unknown as string } }));

  // The memory tier's copy on this thread: the line generate() cached is there, read without a message.
  const view = ai.memoryCache();
  const entries = [...(view as unknown as { _entries: Map<string, { text: string }> })._entries.entries()];
  const cachedKey = entries.find(([, e]) => e.text === first.text)?.[0] ?? null;
  const viewText = cachedKey === null ? null : view.get(cachedKey) ?? null;
  const syncText = cachedKey === null ? null : ai.cacheGetSync(cachedKey) ?? null;
  // Hits served here reach the worker's stats with the next call.
  await ai.refreshDevice();
  const stats = ai.cacheStats();

  // localStorage, bridged: the worker's records reach the page's real storage.
  await ai.cachePut(cachedKey ?? 'x', 'A line kept in localStorage.', 0.9).catch(() => {});
  await sleep(200);
  const lsKeys = Object.keys(localStorage).filter((k) => k.startsWith(`${NS}:`)).length;

  let reports = 0;
  let reported: UnwrittenMetrics | null = null;
  const id = ai.onReport((m) => {
    reports += 1;
    reported = m;
  }, 1000);
  const badReport = await failure(() => ai.onReport('no' as unknown as () => void));
  await sleep(2500);
  const stopped = ai.offReport(id);
  const unknownReport = ai.offReport(id);
  ai.observe({ type: 'scene', scene: 'the forge' });
  const m = ai.metrics();

  // The six sync methods, in worker mode and on a worker: false runtime of the same config (the same namespace, so
  // it reads the anonymous player id the worker stored). Answers and errors must be the same.
  const sync = await compareSync(ai);

  // The worker dies: what is pending rejects, the next call starts a fresh worker, storage is kept.
  const pending = ai.analyze('Are you still there?').then(() => 'resolved', (e) => caught(e).name);
  const trap = await failure(() => __forceTrap('async', ai));
  const pendingOutcome = await pending;
  const afterTrap = await ai.generate(greeting);
  const restarted = ai.takeEvents().filter((e) => e.type === 'runtimeRestarted').length;
  const afterAnalyze = await ai.analyze('Thank you so much, you saved my life!');

  ai.dispose();
  const disposedCall = await failure(() => ai.generate(greeting));
  const disposedSync = await failure(() => ai.metrics());
  // The six after dispose(), as a disposed worker: false runtime answers them (canonicalRequest still does).
  const disposedLocal = await UnwrittenAI.create({ ...config, worker: false });
  disposedLocal.dispose();
  const disposedSix = SYNC_CALLS.filter(([, f]) => JSON.stringify(outcome(() => f(ai))) !== JSON.stringify(outcome(() => f(disposedLocal))))
    .map(([what]) => what);
  const disposedCanonical = outcome(() => ai.canonicalRequest({ character: { id: 'bram' }, responseType: 'greeting', topic: 'hello' }));
  disposedLocal.free();

  return {
    expected: { words: WORDS },
    badWorker: badWorker && { name: badWorker.name, field: badWorker.field },
    badConfig: badConfig && { name: badConfig.name, field: badConfig.field },
    version,
    loadModel: { progressCalls, state: loaded.state },
    modelStatus: { state: status.state, responseBank: status.responseBank },
    analyze: { label: hostile.sentiment.label, batch: batch.map((a) => a.sentiment.label), bad: badAnalyze?.name ?? null },
    generate: {
      first: { source: first.source, text: first.text },
      second: { source: second.source, cached: second.cached, same: second.text === first.text },
      bad: badGenerate && { name: badGenerate.name, field: badGenerate.field },
      unsendable: unsendable?.name ?? null,
    },
    memoryCache: { found: cachedKey !== null, viewText: viewText === first.text, syncText: syncText === first.text, memoryHits: stats.hits.memory },
    storage: { localStorage: m.storage.localStorage.state, indexedDb: m.storage.indexedDb.state, lsKeys },
    device: { visibility: m.device.visibility ?? null },
    onReport: { reports, hasMetrics: reported !== null, stopped, unknownReport, bad: badReport?.name ?? null },
    metrics: { namespace: m.namespace, version: m.version, modelState: m.model.state },
    sync,
    crash: { trap: trap?.name ?? null, pending: pendingOutcome, afterTrap: afterTrap.source, restarted, afterAnalyze: afterAnalyze.sentiment.label },
    dispose: {
      call: disposedCall?.name ?? null,
      sync: disposedSync?.name ?? null,
      sixDiffer: disposedSix,
      canonical: 'ok' in disposedCanonical,
      flag: outcome(() => ai.isEnabled('useLocalAi')),
    },
  };
}

main().then(
  (report) => show('done', JSON.stringify(report, null, 1)),
  (e) => show('error', `${caught(e).name}: ${caught(e).message}\n${(e as Error)?.stack ?? ''}`),
);

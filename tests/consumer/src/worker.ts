// The worker page (worker.html): the same game with `worker: true`, so the runtime runs in the package's Web Worker
// (wasm/js/worker.js, emitted by the game's webpack with no configuration). Every call the game makes goes through
// the main-thread proxy; the outcome of each goes into #out for tests/e2e/worker.mjs. What worker mode does not
// serve yet (six sync methods) must fail by name, not answer wrongly.
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

  const unsupported: Record<string, string | null> = {};
  const calls: Record<string, () => unknown> = {
    cacheKey: () => ai.cacheKey({ character: 'bram', type: 'greeting', player: 'p-1' }),
    canonicalRequest: () => ai.canonicalRequest({ npc: { id: 'bram', name: 'Bram' } } as never),
    isEnabled: () => ai.isEnabled('useLocalAi'),
    getFlag: () => ai.getFlag('localAiThreshold'),
    variant: () => ai.variant('x'),
    inRollout: () => ai.inRollout('x'),
  };
  for (const [name, f] of Object.entries(calls)) unsupported[name] = (await failure(f))?.name ?? null;

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
    unsupported,
    crash: { trap: trap?.name ?? null, pending: pendingOutcome, afterTrap: afterTrap.source, restarted, afterAnalyze: afterAnalyze.sentiment.label },
    dispose: { call: disposedCall?.name ?? null, sync: disposedSync?.name ?? null },
  };
}

main().then(
  (report) => show('done', JSON.stringify(report, null, 1)),
  (e) => show('error', `${caught(e).name}: ${caught(e).message}\n${(e as Error)?.stack ?? ''}`),
);

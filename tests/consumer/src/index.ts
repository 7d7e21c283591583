// A game using the whole public API of the package, with its exported types: create, the local model, character
// lines, events, the response cache (cache.ts), metrics, errors, dispose. Offline and deterministic: no cloud
// providers, the model shipped in the package served by the page's own server. The outcome of every call goes
// into #out as one JSON object (report.ts) that tests/e2e/run.mjs checks.
import init, {
  UnwrittenAI,
  type Analysis,
  type Fallback,
  type GenerateRequest,
  type GenerateResult,
  type FlagValue,
  type FlagsRefreshResult,
  type ModelStatus,
  type Moment,
  type UnwrittenEvent,
  type UnwrittenConfig,
  type UnwrittenMetrics,
} from 'unwritten-ai';
import { playWithCache } from './cache';
import { FIELDS, WORDS } from './expect';
import { type Report, caught, failure, show } from './report';

const config: UnwrittenConfig = {
  namespace: 'consumer-game',
  // The model ships in the package; onDemand loads it when the game asks (loadModel, with a progress bar).
  // "bundled" would load it inside create(), and loadModel's progress callback would then never be called.
  model: { strategy: 'onDemand' },
  storage: { localStorage: true, indexedDb: true },
  // No providers: generate() answers from the local model's response bank or a template. A generous local step
  // deadline keeps the answer local (so cached) when the machine is busy.
  cloud: { localTimeoutMs: 2000 },
};

const HOSTILE = 'Get out of my sight, you filthy thief!';
const GRATEFUL = 'Thank you so much, you saved my life!';

const greeting: GenerateRequest = {
  type: 'greeting',
  npc: { id: 'bram', name: 'Bram', personality: 'gruff, loyal' },
  context: { playerText: 'Any work for me today?', scene: 'the forge', relationshipLevel: 6 },
  importance: 0.4,
  maxTokens: 80,
  playerId: 'p-1',
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits (up to 30 s) until the local responder's response bank has loaded or failed. */
async function bankSettled(ai: UnwrittenAI): Promise<ModelStatus> {
  for (let i = 0; i < 300; i++) {
    const status = ai.modelStatus();
    if (status.responseBank === WORDS.bankReady || status.responseBank === WORDS.bankFailed) return status;
    await sleep(100);
  }
  return ai.modelStatus();
}

function sentimentOf(analysis: Analysis): Analysis['sentiment']['label'] {
  return analysis.sentiment.label;
}

async function main(): Promise<Report> {
  const exports = await init();
  const badConfig = await failure(() => UnwrittenAI.create({ namespace: 'NOT VALID' }));
  const ai: UnwrittenAI = await UnwrittenAI.create(config);
  const version: string = ai.version();

  // The loading screen.
  let progressCalls = 0;
  let lastLoaded = 0;
  let lastTotal: number | null = null;
  const onProgress = (loaded: number, total: number | null): void => {
    progressCalls += 1;
    lastLoaded = loaded;
    lastTotal = total;
  };
  const loaded: ModelStatus = await ai.loadModel(onProgress);
  const status = await bankSettled(ai);

  // The player's lines, read by the model.
  const hostile: Analysis = await ai.analyze(HOSTILE);
  const batch: Analysis[] = await ai.analyzeBatch([GRATEFUL, HOSTILE]);

  // Bram greets the player, twice: the second time from the cache.
  const first: GenerateResult = await ai.generate(greeting);
  const second: GenerateResult = await ai.generate(greeting);
  const badRequest = await failure(() => ai.generate({ npc: { id: 'bram', name: 'Bram' }, importance: 2 }));
  const events: UnwrittenEvent[] = ai.takeEvents();

  // Pre-generation: the game reports what happens, and builds its request for a moment with the helper that
  // pre-generation predicts it with, so the line made ahead of time is found. Asked twice: the second is cached.
  ai.observe({ type: 'scene', scene: 'the forge' });
  ai.observe({ type: 'charactersNearby', characters: [{ id: 'bram', name: 'Bram', distance: 12 }] });
  const moment: Moment = {
    character: { id: 'bram', name: 'Bram' }, responseType: 'question', topic: 'Any news?', scene: 'the forge',
    importance: 0.4,
  };
  const canonical: GenerateRequest = ai.canonicalRequest(moment);
  await ai.generate(canonical);
  const predicted: GenerateResult = await ai.generate(ai.canonicalRequest(moment));
  const { character, responseType, topic, importance } = moment;
  ai.observe({ type: 'conversation', character, responseType, topic, importance });
  const badEvent = await failure(() => ai.observe({ type: 'clock', hour: 25 }));

  const cache = await playWithCache(ai);

  // The model's server has no newer version: nothing changes, and there is no backup to roll back to.
  const updateCheck: ModelStatus = await ai.checkForModelUpdate();
  const noBackup = await failure(() => ai.rollbackModel());

  const metrics: UnwrittenMetrics = ai.metrics();
  const refreshed: UnwrittenMetrics = await ai.refreshDevice();

  // Flags (no remote document: the built-in defaults) and the monitor's periodic report.
  const useLocalAi: boolean = ai.isEnabled('useLocalAi');
  const threshold: FlagValue | undefined = ai.getFlag('localAiThreshold');
  const badFlag = await failure(() => ai.isEnabled(42 as unknown as string));
  const noExperiment = ai.variant('no-such-experiment');
  const noRollout = ai.inRollout('no-such-rollout');
  const refresh: FlagsRefreshResult = await ai.refreshFlags();
  const [reported, stopped] = await new Promise<[UnwrittenMetrics, boolean]>((resolve) => {
    const id: number = ai.onReport((m: UnwrittenMetrics) => resolve([m, ai.offReport(id)]), 1000);
  });
  const badReport = await failure(() => ai.onReport('every minute' as unknown as () => void));

  // Leaving the game.
  ai.dispose();
  const disposedCall = await failure(() => ai.generate(greeting));
  const disposedSync = await failure(() => ai.metrics());
  const secondDispose = await failure(() => ai.dispose());

  return {
    expected: { words: WORDS, fields: FIELDS },
    init: { exportsUnwrittenAI: exports.UnwrittenAI === UnwrittenAI },
    create: { namespace: metrics.namespace, badConfig },
    version: { version },
    loadModel: { progressCalls, lastLoaded, lastTotal, state: loaded.state, loadMs: loaded.loadMs },
    analyze: {
      label: sentimentOf(hostile),
      probsSum: hostile.sentiment.probs.reduce((a, b) => a + b, 0),
      traits: hostile.personality.length,
      relationship: hostile.relationship,
      truncated: hostile.truncated,
    },
    analyzeBatch: { count: batch.length, labels: batch.map(sentimentOf) },
    modelStatus: {
      state: status.state, strategy: status.strategy, name: status.name, responseBank: status.responseBank,
    },
    generate: {
      first: {
        text: first.text, cached: first.cached, source: first.source, route: first.route,
        fallbacks: first.fallbacks.map((f: Fallback) => `${f.step}:${f.reason}` as const),
      },
      second: {
        text: second.text, cached: second.cached, source: second.source,
        fallbacksIsArray: Array.isArray(second.fallbacks),
      },
      badRequest,
    },
    takeEvents: { isArray: Array.isArray(events), types: events.map((e) => e.type) },
    observe: { observed: metrics.pregen.observed, rejected: metrics.pregen.rejected, badEvent },
    canonicalRequest: {
      npcId: canonical.npc.id,
      playerText: canonical.context?.playerText ?? null,
      scene: canonical.context?.scene ?? null,
      cached: predicted.cached,
    },
    ...cache,
    metrics: {
      version: metrics.version,
      namespace: metrics.namespace,
      indexedDb: metrics.storage.indexedDb.state,
      modelState: metrics.model.state,
      routerCalls: metrics.router.calls,
      uptimeMs: metrics.uptimeMs,
    },
    checkForModelUpdate: { update: updateCheck.update, state: updateCheck.state, version: updateCheck.version },
    rollbackModel: { noBackup },
    isEnabled: { useLocalAi, badFlag },
    getFlag: { threshold },
    variant: { unknownIsUndefined: noExperiment === undefined },
    inRollout: { unknownIsUndefined: noRollout === undefined },
    refreshFlags: { outcome: refresh.outcome },
    onReport: {
      analyzeCount: reported.monitor.latency.analyze?.total.count ?? 0,
      watched: Object.keys(reported.monitor.watch).length,
      badReport,
    },
    offReport: { stopped, unknown: ai.offReport(12345) },
    refreshDevice: {
      version: refreshed.version,
      uptimeMs: refreshed.uptimeMs,
      hasDevice: typeof refreshed.device === 'object' && refreshed.device !== null,
    },
    dispose: { disposedCall, disposedSync, secondDisposeOk: secondDispose === null },
  };
}

main().then(
  (report) => show('done', JSON.stringify(report)),
  (err: unknown) => show('error', JSON.stringify(caught(err))),
);

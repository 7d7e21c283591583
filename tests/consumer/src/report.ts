// What the consumer game reports into #out (one entry per public method of the package), read by
// tests/e2e/run.mjs, and the helpers that fill it in.
import type {
  Analysis, CacheTier, FlagValue, FlagsRefresh, FallbackReason, FallbackStep, GenerateResult, ModelStatus, UnwrittenEvent, TierStatus,
  UnwrittenErrorName,
} from 'unwritten-ai';
import { FIELDS, WORDS } from './expect';

/** A rejection (or throw) as the package documents it: an Error whose name is an UnwrittenErrorName, with `field`
 *  naming the bad option or request member for InvalidConfig and InvalidRequest. */
export interface UnwrittenError extends Error {
  name: UnwrittenErrorName;
  field?: string;
}

/** What a caught error looked like; `name` is kept as reported, so a wrong one shows up in the e2e output. */
export interface Caught {
  name: string;
  field: string | null;
  message: string;
}

export function caught(err: unknown): Caught {
  if (err instanceof Error) {
    const e = err as UnwrittenError;
    return { name: e.name, field: typeof e.field === 'string' ? e.field : null, message: e.message };
  }
  return { name: typeof err, field: null, message: String(err) };
}

/** The outcome of a call that should fail: what it failed with, or `null` if it did not fail. */
export async function failure(call: () => unknown): Promise<Caught | null> {
  try {
    await call();
    return null;
  } catch (err) {
    return caught(err);
  }
}

export interface Report {
  /** The words run.mjs compares against (from expect.ts), so that it spells none itself. */
  expected: { words: typeof WORDS; fields: typeof FIELDS };
  init: { exportsUnwrittenAI: boolean };
  create: { namespace: string; badConfig: Caught | null };
  version: { version: string };
  loadModel: {
    progressCalls: number; lastLoaded: number; lastTotal: number | null;
    state: ModelStatus['state']; loadMs: number | null;
  };
  analyze: {
    label: Analysis['sentiment']['label']; probsSum: number; traits: number; relationship: number; truncated: boolean;
  };
  analyzeBatch: { count: number; labels: Analysis['sentiment']['label'][] };
  modelStatus: {
    state: ModelStatus['state']; strategy: ModelStatus['strategy']; name: string | null;
    responseBank: ModelStatus['responseBank'];
  };
  generate: {
    first: {
      text: string; cached: boolean; source: GenerateResult['source']; route: GenerateResult['route'];
      fallbacks: `${FallbackStep}:${FallbackReason}`[];
    };
    second: { text: string; cached: boolean; source: GenerateResult['source']; fallbacksIsArray: boolean };
    badRequest: Caught | null;
  };
  takeEvents: { isArray: boolean; types: UnwrittenEvent['type'][] };
  observe: { observed: number; rejected: number; badEvent: Caught | null };
  canonicalRequest: { npcId: string; playerText: string | null; scene: string | null; cached: boolean };
  cacheKey: { length: number; orderIrrelevant: boolean; playerMatters: boolean };
  cachePut: { text: string };
  cacheGet: { text: string | null; tier: CacheTier | null };
  memoryCache: { text: string | null; has: boolean; size: number };
  cacheGetSync: { text: string | null; missIsUndefined: boolean };
  cachePutMany: { stored: number };
  cacheInvalidate: { lineGone: boolean; viewHas: boolean; otherPlayerKept: boolean };
  clearCache: { entriesAfter: number; foundAfter: boolean };
  cacheStats: { memoryHits: number; misses: number; syncMisses: number; hitRate: number; sameAsMetrics: boolean };
  checkForModelUpdate: { update: ModelStatus['update']; state: ModelStatus['state']; version: string | null };
  rollbackModel: { noBackup: Caught | null };
  isEnabled: { useLocalAi: boolean; badFlag: Caught | null };
  getFlag: { threshold: FlagValue | undefined };
  variant: { unknownIsUndefined: boolean };
  inRollout: { unknownIsUndefined: boolean };
  refreshFlags: { outcome: FlagsRefresh };
  onReport: { analyzeCount: number; watched: number; badReport: Caught | null };
  offReport: { stopped: boolean; unknown: boolean };
  metrics: {
    version: string; namespace: string; indexedDb: TierStatus['state']; modelState: ModelStatus['state'];
    routerCalls: number; uptimeMs: number;
  };
  refreshDevice: { version: string; uptimeMs: number; hasDevice: boolean };
  dispose: { disposedCall: Caught | null; disposedSync: Caught | null; secondDisposeOk: boolean };
}

/** Writes the report (or the error that stopped the game) into #out. */
export function show(state: 'done' | 'error', text: string): void {
  const out = document.getElementById('out');
  if (out) {
    out.textContent = text;
    out.dataset.state = state;
  }
}

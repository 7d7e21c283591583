// The one place where the consumer game (and, through the report's `expected`, tests/e2e/run.mjs) names words of
// the package's vocabulary. Each word is checked by `tsc` against the type it belongs to, so a word that leaves
// the vocabulary fails the type-check here. When the vocabulary changes, update this file only.
import type { Analysis, CacheTier, ModelState, BankState, Source, TierStatus, UnwrittenErrorName } from 'unwritten-ai';

export const WORDS = {
  /** modelStatus().state once loadModel() resolved. */
  modelReady: 'ready',
  /** modelStatus().responseBank: the local responder can answer / gave up. */
  bankReady: 'ready',
  bankFailed: 'failed',
  /** analyze() of a hostile line, and of a grateful one. */
  hostile: 'negative',
  grateful: 'positive',
  /** cacheGet() of an entry the memory tier holds. */
  memoryTier: 'memory',
  /** generate(): the first line comes from the local model's response bank, the same request again from memory. */
  localSource: 'local',
  memorySource: 'memory',
  /** metrics().storage.indexedDb.state in Chromium. */
  tierAvailable: 'available',
  /** err.name of the rejections the game provokes. */
  invalidConfig: 'InvalidConfig',
  invalidRequest: 'InvalidRequest',
  disposed: 'Disposed',
  /** err.name of every call on a runtime whose WebAssembly instance trapped (crash.ts). */
  crashed: 'RuntimeCrashed',
} as const satisfies {
  modelReady: ModelState;
  bankReady: BankState;
  bankFailed: BankState;
  hostile: Analysis['sentiment']['label'];
  grateful: Analysis['sentiment']['label'];
  memoryTier: CacheTier;
  localSource: Source;
  memorySource: Source;
  tierAvailable: TierStatus['state'];
  invalidConfig: UnwrittenErrorName;
  invalidRequest: UnwrittenErrorName;
  disposed: UnwrittenErrorName;
  crashed: UnwrittenErrorName;
};

/** The `field` of the InvalidConfig / InvalidRequest errors the game provokes (option and request paths). */
export const FIELDS = { badNamespace: 'namespace', badImportance: 'importance', badHour: 'hour' } as const;

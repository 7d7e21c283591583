/** Options of `UnwrittenAI.create`. Every field is optional; unknown fields are rejected (`InvalidConfig`). */
export interface UnwrittenConfig {
  /** Prefix of storage keys and of the IndexedDB name: 1-32 of a-z 0-9 - _. Default "unwritten". */
  namespace?: string;
  /** The local model. */
  model?: {
    /** When to load it. "auto" (default) picks from device signals: cloudOnly when under 50 MB of storage is
     *  free, onDemand on saveData or 2g, else firstLaunch. "bundled" loads during create(). */
    strategy?: ModelStrategy;
    /** URL of manifest.json. Default: the model shipped in this package. */
    manifestUrl?: string;
    /** URL of the .onnx file. Default: the manifest's file, next to the manifest. */
    modelUrl?: string;
    /** URL of vocab.txt. Default: the manifest's vocabulary, next to the manifest. */
    vocabUrl?: string;
    /** URL of the response bank the local responder draws lines from. Default: next to the manifest. */
    responseBankUrl?: string;
    /** A model download that receives no byte for this long (headers included) is aborted and the load fails
     *  (`ModelLoadError`); a "bundled" create() then resolves without the model. 100 to 600000, default 15000. */
    stallTimeoutMs?: number;
  };
  storage?: {
    /** Use localStorage when the browser allows it. Default true. */
    localStorage?: boolean;
    /** Use IndexedDB when the browser allows it. Default true. */
    indexedDb?: boolean;
  };
  /** The cloud path of `generate()`. No providers (the default): local model and templates only. */
  cloud?: CloudConfig;
  /** The three-tier response cache. Defaults are the design's numbers (docs/design.md). */
  cache?: CacheConfig;
}

/** Whether a storage tier works, as probed at start. */
export type TierStatus =
  | { state: "available" }
  | { state: "disabled" }
  | { state: "unavailable"; reason: string };

export interface DeviceSnapshot {
  batteryLevel: number | null;
  charging: boolean | null;
  effectiveType: "slow-2g" | "2g" | "3g" | "4g" | string | null;
  saveData: boolean | null;
  visibility: "visible" | "hidden" | null;
  storageQuotaBytes: number | null;
  storageUsageBytes: number | null;
}

export interface UnwrittenMetrics {
  version: string;
  namespace: string;
  uptimeMs: number;
  /** Time `create` took, ms. */
  startMs: number;
  storage: { localStorage: TierStatus; indexedDb: TierStatus };
  device: DeviceSnapshot;
  model: ModelStatus;
  router: RouterMetrics;
  cache: CacheStats;
}

/** What `analyze` resolves to. */
export interface Analysis {
  sentiment: { label: "negative" | "neutral" | "positive"; probs: [number, number, number] };
  /** openness, conscientiousness, extraversion, agreeableness, neuroticism; each 0..1. */
  personality: [number, number, number, number, number];
  /** Affinity of the speaker toward the listener, -1..1. */
  relationship: number;
  /** The text had more than 128 tokens and was cut. */
  truncated: boolean;
  latencyMs: number;
}

export interface ModelStatus {
  state: ModelState;
  strategy: Exclude<ModelStrategy, "auto">;
  name: string | null;
  version: string | null;
  origin: ModelOrigin | null;
  loadMs: number | null;
  /** Of loadMs: getting the verified files (network or IndexedDB), and building the plan (parse, optimise, warm-up). */
  readMs: number | null;
  buildMs: number | null;
  error: string | null;
  errorName: UnwrittenErrorName | null;
  /** The local responder's response bank, fetched after the model (analyze() does not wait for it). */
  responseBank: BankState;
  /** The serving release's channel ("stable" unless its manifest names another). */
  channel: string | null;
  /** The version kept as the backup (what a rollback goes back to). */
  backupVersion: string | null;
  /**
   * Where the last update check stands; the model that served before serves until "updated". `updateVersion` is
   * the version it is about; "failed" has `updateFailure` and `updateError`, "refused" `updateRejection`,
   * "deferred" `updateDeferral`.
   */
  update: UpdateState;
  updateVersion: string | null;
  updateError: string | null;
  updateFailure: UpdateFailure | null;
  updateRejection: UpdateRejection | null;
  updateDeferral: UpdateDeferral | null;
  /** The last shadow check's figures (the new model beside the serving one). */
  shadow: ShadowResult | null;
}

/** The shadow check of a new model beside the serving one. */
export interface ShadowResult {
  passed: boolean;
  reason: string | null;
  samples: number;
  /** Of `samples`, the player's recent lines (kept in memory only, never sent). */
  liveSamples: number;
  /** Share of inputs on whose sentiment label both models agree; null when sentiment is changed on purpose. */
  agreement: number | null;
  minAgreement: number;
  /** The largest mean absolute difference among the outputs judged by distance. */
  meanAbsDiff: number;
  maxMeanAbsDiff: number;
  outputs: Array<{
    name: string;
    measure: ShadowMeasure;
    meanAbsDiff: number;
    labelled: number | null;
    currentError: number | null;
    candidateError: number | null;
    passed: boolean;
  }>;
}

/** An endpoint. Prefer your game server's gateway (no key in the browser); a key is sent only in a header. */
export interface ProviderConfig {
  kind: "openai" | "gemini" | "anthropic";
  /** e.g. "https://game.example/ai/v1" (OpenAI-compatible: LiteLLM, vLLM, OpenRouter, ...). */
  baseUrl: string;
  apiKey?: string;
  /** The gateway accepts POST {baseUrl}/batch/chat/completions (openai kind only). Default false. */
  batch?: boolean;
}

export interface ModelOverride {
  provider?: string;
  model?: string;
  inputUsdPerMtok?: number;
  outputUsdPerMtok?: number;
  latencyMs?: number;
  quality?: number;
}

export interface CloudConfig {
  /** By id; models use provider "gateway" unless overridden. Default {} (no cloud). */
  providers?: Record<string, ProviderConfig>;
  /** Defaults: flash gemini-2.5-flash $0.30/$2.50, pro gemini-2.5-pro $1.25/$10, claude claude-3-5-sonnet-latest
   *  $3/$15 per million tokens. */
  models?: { flash?: ModelOverride; pro?: ModelOverride; claude?: ModelOverride };
  /** Default true. */
  preferLocal?: boolean;
  /** Claude is used for critical moments only if its worst-case cost is at most this. Default 0.01. */
  costThresholdUsd?: number;
  /** 0..1, default 0.7. */
  qualityThreshold?: number;
  /** Default 2. */
  maxQualityRetries?: number;
  /** The cloud is used only above this importance. Default 0.5. */
  minImportance?: number;
  /**
   * On a device reporting battery <= lowLevel and not charging: prefer local, and use the cloud only above
   * minImportance. Defaults { aware: true, lowLevel: 0.2, minImportance: 0.8 }. Call refreshDevice() to re-read.
   */
  battery?: { aware?: boolean; lowLevel?: number; minImportance?: number };
  /** Default 200. */
  localTimeoutMs?: number;
  /** Default 10000. */
  cloudTimeoutMs?: number;
  /** Whole generate() call. Default 12000. */
  deadlineMs?: number;
  /** Default 2. */
  maxRetries?: number;
  /** Default 250. */
  backoffBaseMs?: number;
  /** Default 4000. */
  backoffMaxMs?: number;
  /** Defaults 5, 60000, 8000, 60000, 1. */
  breaker?: { failureThreshold?: number; windowMs?: number; slowCallMs?: number; resetTimeoutMs?: number; halfOpenProbes?: number };
  /** Defaults 10 and 100. */
  batch?: { maxSize?: number; maxWaitMs?: number };
  /** Defaults 100, none, 0.8. */
  budget?: { dailyUsd?: number; perPlayerDailyUsd?: number; alertFraction?: number };
}

/** What `generate` takes. Unknown top-level keys are rejected (`InvalidRequest`). */
export interface GenerateRequest {
  /** Default "dialogue". */
  type?: ResponseType;
  npc: { id: string; name: string; personality?: string | string[] | Record<string, unknown> };
  context?: {
    playerText?: string;
    scene?: string;
    dramaticIrony?: boolean;
    isCrisis?: boolean;
    isEvolutionMoment?: boolean;
    needsTension?: boolean;
    /** 0..10 */
    emotionalCapacity?: number;
    /** 0..10 */
    supportLevelNeeded?: number;
    /** 0..10 */
    relationshipLevel?: number;
    /** Anything else is passed to the model as context. */
    [key: string]: unknown;
  };
  /** 0..1, default 0.5. */
  importance?: number;
  /** 1..2048, default 150. */
  maxTokens?: number;
  /** For the per-player budget. */
  playerId?: string;
  /** Default "text". */
  format?: "text" | "json";
}

export interface GenerateResult {
  text: string;
  /** A cache tier, the local model, a cloud model (named in `model`), or a fallback template. */
  source: Source;
  /** The model that wrote the line: the cloud model's id, or the local model's name@version. */
  model: string | null;
  latencyMs: number;
  costUsd: number;
  cached: boolean;
  /** Joined an identical request in flight; its cost was counted there. */
  shared: boolean;
  /** The routing-matrix row that picked the first model. */
  route: Route;
  /** Steps that did not produce the line, in order. */
  fallbacks: Fallback[];
}

/** A step of `generate()` that did not produce the line. */
export interface Fallback {
  step: FallbackStep;
  /** The cloud model the step tried, when it reached one. */
  model: string | null;
  reason: FallbackReason;
  /** What happened, in words, for a log. */
  detail: string;
}

export type RouterEvent =
  | { type: "breakerStateChanged"; provider: string; from: BreakerState; to: BreakerState; atMs: number }
  | { type: "budgetAlert"; spentUsd: number; budgetUsd: number; atMs: number }
  | { type: "budgetExceeded"; scope: "daily" | "player"; playerId: string | null; spentUsd: number; budgetUsd: number; atMs: number }
  | { type: "providerMisconfigured"; provider: string; status: number; atMs: number }
  | { type: "batteryChanged"; low: boolean; level: number | null; atMs: number };

export interface RouterMetrics {
  calls: number;
  bySource: Partial<Record<Source, number>>;
  /** By "step:reason", e.g. "cloud:timeout". */
  fallbacks: Partial<Record<`${FallbackStep}:${FallbackReason}`, number>>;
  qualityRetries: number;
  local: LocalState;
  cloud: {
    calls: number; httpRequests: number; retries: number; singleFlightSaved: number;
    batchesSent: number; batchedCalls: number; errors: Partial<Record<FallbackReason, number>>;
  };
  breakers: Record<string, { state: BreakerState; recentFailures: number; opens: number; rejected: number }>;
  cost: { day: number; spentUsd: number; reservedUsd: number; dailyBudgetUsd: number; byModel: Record<string, number>; denied: number; clamped: number };
  eventsDropped: number;
  /** The last device check found a low battery (not charging): routine lines stay local. */
  lowBattery: boolean;
}

/** One cache tier's limits; every field optional (unset fields keep that tier's default). */
export interface CacheTierConfig {
  /** At most this many entries; 0 turns the tier off. memory 100, localStorage 1000, indexedDb 10000. */
  maxEntries?: number;
  /** Time to live, ms. memory 5 min, localStorage 7 days, indexedDb 30 days. */
  ttlMs?: number;
  /** Byte budget, LRU eviction. memory 10 MB, localStorage 2 MB, indexedDb 50 MB (and at most half the free
   *  space navigator.storage.estimate() reports). At least 1024. */
  maxBytes?: number;
  /** Entries with a lower importance skip this tier. memory 0, localStorage 0.3, indexedDb 0.7. */
  minImportance?: number;
}

export interface CacheConfig {
  memory?: CacheTierConfig;
  localStorage?: CacheTierConfig;
  indexedDb?: CacheTierConfig;
  /** The most used IndexedDB entries loaded into memory at start. Default 50. */
  warmEntries?: number;
  /** How often expired entries are swept, ms (>= 1000). Default 60000. */
  sweepIntervalMs?: number;
}

/** What determines a response; `ai.cacheKey(parts)` turns it into a key string. */
export interface CacheKeyParts {
  type: string;
  character: string;
  /** Include it so a model update invalidates old responses. */
  modelVersion?: string;
  /** Player or save namespace: the unit of `cacheInvalidate(player)`. */
  player?: string;
  /** The context fields that change the response. */
  context?: Record<string, string | number | boolean | null>;
}

export interface CacheHit {
  text: string;
  tier: CacheTier;
}

export interface CacheEntry {
  key: string;
  text: string;
  /** 0..1, default 0.5. */
  importance?: number;
}

export type CachePerTier = Record<CacheTier, number>;

export type CacheTierState = { state: "up" } | { state: "absent" } | { state: "down"; reason: string };

export interface CacheStats {
  hits: CachePerTier;
  misses: number;
  /** Memory-only lookups (cacheGetSync) that missed; not counted in `misses`. */
  syncMisses: number;
  /** hits / (hits + misses). */
  hitRate: number;
  promotions: number;
  evictions: Record<EvictionReason, number>;
  entries: CachePerTier;
  bytes: CachePerTier;
  budgetBytes: CachePerTier;
  /** ratio = storedBytes / rawBytes (0.3 = 70 % saved). */
  compression: { rawBytes: number; storedBytes: number; ratio: number };
  errors: { quota: number; quotaSkips: number; unavailable: number; failed: number; corrupt: number };
  /** Values another script left in a store that do not read back (not base64 in localStorage, not bytes in
   * IndexedDB), as each start finds them; this version's and older versions' are deleted. memory is always 0. */
  undecodable: CachePerTier;
  /** Messages from other tabs that were malformed or announced an implausible generation; ignored. */
  rejectedMessages: number;
  tiers: { localStorage: CacheTierState; indexedDb: CacheTierState };
}

/** The memory tier, read from JS without a call into WebAssembly (`ai.memoryCache()`). */
export interface MemoryCacheView {
  /** The text cached under `key` (from `ai.cacheKey`) if the memory tier holds it unexpired; a hit counts. */
  get(key: string): string | undefined;
  /** Whether `get(key)` would find a text (not counted as a hit). */
  has(key: string): boolean;
  readonly size: number;
}

// The public vocabulary: one spelling per word, the same as the Rust enums in src/vocab.rs (a test holds each
// union below to them).

/** When the local model loads. */
export type ModelStrategy = "auto" | "bundled" | "firstLaunch" | "onDemand" | "cloudOnly";
/** The kind of line `generate()` is asked for. */
export type ResponseType = "dialogue" | "greeting" | "farewell" | "question" | "reaction" | "bark" | "narration";
/** A tier of the response cache. */
export type CacheTier = "memory" | "localStorage" | "indexedDb";
/** Where a `generate()` line came from. */
export type Source = "memory" | "localStorage" | "indexedDb" | "local" | "cloud" | "template";
/** The routing-matrix row that picked the model. */
export type Route = "critical" | "high" | "mediumHigh" | "authenticity" | "basic" | "default";
/** A step of the `generate()` chain. */
export type FallbackStep = "cache" | "local" | "cloud";
/** Why a step was passed over. */
export type FallbackReason = "timeout" | "absent" | "error" | "quality" | "notConfigured" | "lowImportance"
  | "lowBattery" | "breakerOpen" | "overBudget" | "deadline" | "config" | "rateLimited" | "server" | "client"
  | "network" | "malformed" | "aborted";
export type BreakerState = "closed" | "open" | "halfOpen";
/** Whether `generate()` has a local step. */
export type LocalState = "absent" | "ready";
export type ModelState = "idle" | "loading" | "ready" | "failed";
/** Where the loaded model came from. */
export type ModelOrigin = "network" | "indexedDb";
/** The response bank; "none" when the manifest names none. */
export type BankState = "none" | "idle" | "loading" | "ready" | "failed";
/** Where the model's update stands; the model that served before serves until "updated". */
export type UpdateState = "none" | "checking" | "current" | "refused" | "deferred" | "downloading" | "verifying"
  | "updated" | "failed";
/** Why the server's manifest is not an update. */
export type UpdateRejection = "older" | "sameVersion" | "otherChannel" | "runtimeTooOld" | "rolledBack";
/** Why the auto-update gate holds an available update. */
export type UpdateDeferral = "disabled" | "metered" | "lowBattery";
/** Why an update failed (`modelUpdateFailed`'s `reason`). */
export type UpdateFailure = "manifest" | "refused" | "download" | "integrity" | "build" | "shadow" | "storage";
/** Why the model went back to the backup version. */
export type RollbackReason = "command" | "load";
/** How the shadow check judged an output. */
export type ShadowMeasure = "distance" | "labelled";
/** The `type` of a model lifecycle event. */
export type ModelEventType = "modelUpdateAvailable" | "modelDownloadProgress" | "modelShadowResult" | "modelUpdated"
  | "modelRollback" | "modelUpdateFailed";
/** Names of the errors this package throws or rejects with (`err.name`). */
export type UnwrittenErrorName = "InvalidConfig" | "InvalidRequest" | "StorageError" | "NetworkError" | "Disposed"
  | "ModelIntegrityError" | "ModelLoadError" | "ModelNotReady" | "InferenceError" | "RuntimeCrashed";
/** Why entries left a cache tier. */
export type EvictionReason = "capacity" | "bytes" | "expired" | "quota" | "invalidated" | "corrupt";

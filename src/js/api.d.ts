/** Options of `UnwrittenAI.create`. Every field is optional; unknown fields are rejected (`InvalidConfig`). */
export interface UnwrittenConfig {
  /** Run the runtime in a dedicated Web Worker, so the model, inference and storage work never take a frame from
   *  the page. Default: true where a worker can start, false on a page that has none or whose policy forbids them
   *  (`worker-src`). `false` keeps everything on this thread. The same methods and answers either way;
   *  modelStatus, metrics and cacheStats are then the worker's state as of its last message: current after an
   *  awaited generate() or other call, a moment behind after analyze() / analyzeBatch(). */
  worker?: boolean;
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
    /** Model updates (`checkForModelUpdate()` asks whatever this says). */
    update?: {
      /** Fetch updates unasked (at start, and every checkIntervalMs), within the gate below. Default true. */
      auto?: boolean;
      /** Release channels taken. Default ["stable"]. */
      channels?: string[];
      /** Automatic downloads wait for no Save-Data and no 2g/3g (unknown is allowed). Default true. */
      unmeteredOnly?: boolean;
      /** Automatic downloads wait for this battery level (0..1) unless charging. Default 0.5. */
      minBattery?: number;
      /** Ask the server again this often, ms; 0: only at start and when asked. Default 0. */
      checkIntervalMs?: number;
    };
    /** The shadow check of a new model beside the serving one, before the swap. */
    shadow?: { enabled?: boolean; maxMeanAbsDiff?: number; minAgreement?: number; sampleSize?: number };
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
  /** Feature flags, A/B experiments and gradual rollouts. */
  flags?: FlagsConfig;
  /** The performance monitor: its window, and the design's targets and alert lines. */
  monitor?: MonitorConfig;
  /** Idle-time predictive pre-generation. Defaults are the design's numbers (docs/design.md §7). */
  pregen?: PregenConfig;
}

/** A watched figure's target and alert line; either may be left out and keeps that figure's default. */
export interface MonitorLine {
  target?: number;
  alert?: number;
}

export interface MonitorConfig {
  /** How often a report is due, ms (>= 1000). Default 300000. */
  reportEveryMs?: number;
  /** The rolling window of the figures and alerts, ms (5000 to 86400000), kept in 5 slots. Default 300000. */
  windowMs?: number;
  /** A window figure on fewer samples raises and clears no alert. Default 20. */
  minSamples?: number;
  /** After an alert, the same figure raises no other for this long, ms. Default 600000. */
  alertRepeatMs?: number;
  /** The battery drain is reported once discharge has been watched this long, ms. Default 600000. */
  batteryMinSpanMs?: number;
  /** Mean local inference time, ms. Default { target: 15, alert: 20 }. */
  localLatency?: MonitorLine;
  /** Mean cloud response time, ms. Default { target: 3000, alert: 5000 }. */
  cloudLatency?: MonitorLine;
  /** 0..1. Default { target: 0.6, alert: 0.4 }. */
  cacheHitRate?: MonitorLine;
  /** Charge per 30 minutes, 0..1. Default { target: 0.01, alert: 0.015 }. */
  batteryDrain?: MonitorLine;
  /** Lines answered on the device, 0..1. Default { target: 0.7, alert: 0.5 }. */
  localShare?: MonitorLine;
  /** Cloud spend today, USD. Default { target: 100, alert: 120 }. */
  dailyCost?: MonitorLine;
  /** Failed attempts over all attempts, 0..1. Default { target: 0.001, alert: 0.01 }. */
  errorRate?: MonitorLine;
}

/** A window of the game clock in which friends are met; given whole (every member required). */
export interface PregenWindow {
  fromHour: number;
  toHour: number;
  confidence: number;
  ttlMs: number;
}

/** `config.pregen`. Every member is optional. */
export interface PregenConfig {
  /** Default true. Off: events are still observed, nothing is generated. */
  enabled?: boolean;
  /** How often the loop checks its gates, ms (default 1000). */
  checkIntervalMs?: number;
  /** Lines generated per warm-up at most (default 10), `spacingMs` apart (default 100). */
  maxPerWarmup?: number;
  spacingMs?: number;
  /** A generation starts only in an idle slice with this many ms left (default 5). */
  minSliceMs?: number;
  /** Candidates below this confidence are not generated (default 0.2). */
  minConfidence?: number;
  /** The cloud only above this confidence (default 0.7), within `budgetShare` (default 0.1) of the daily budget. */
  cloudMinConfidence?: number;
  budgetShare?: number;
  /** For ranking: the wait a local line (default 50 ms) and a cloud line (default 2500 ms) saves. */
  savedLocalMs?: number;
  savedCloudMs?: number;
  /**
   * A character near the player with a menu (`dialogueOptions`): a line of a kind the menu offers but not on it counts this much
   * (default 0: the menu is the whole choice; raise it if menus grow as a conversation goes on).
   */
  offMenuFactor?: number;
  gates?: {
    /** Default true each. */
    idle?: boolean;
    /** Default 2000. */
    idleMs?: number;
    critical?: boolean;
    battery?: boolean;
    /** Below 0.2: 0.3 of the work; below 0.1: none (unless charging). */
    throttleBelow?: number;
    offBelow?: number;
    throttleShare?: number;
    /** An unmetered connection, or pre-generation budget left. */
    network?: boolean;
    visible?: boolean;
  };
  /** Greetings from characters within `range` (default 100): confidence (1 - d/range) x 0.7, TTL 5 min; times
   * `passedFactor` (default 0.5; 1 is off) for each time the player passed the character by (within `range` in one
   * `charactersNearby` list, missing from a later one) without a conversation since the last. */
  proximity?: { range?: number; confidence?: number; ttlMs?: number; passedFactor?: number };
  /** Defaults: morning 7-9 0.6 1 h; lunch 12-14 0.5 2 h; evening 18-21 0.7 3 h. */
  timeOfDay?: { morning?: PregenWindow; lunch?: PregenWindow; evening?: PregenWindow };
  /** A friend: 5 interactions or relationship 6; a close friend: 10 or 8; a routine partner: a friend met in
   *  the morning window on 2 days. */
  friends?: {
    minInteractions?: number;
    minRelationship?: number;
    closeMinInteractions?: number;
    closeMinRelationship?: number;
    routineMinDays?: number;
  };
  history?: {
    /** Default 100. */
    maxInteractions?: number;
    halfLifeMs?: number;
    minCount?: number;
    priorWeight?: number;
    conversationGapMs?: number;
    /** Default 7 days (as long as localStorage keeps a line the game asked for). */
    patternTtlMs?: number;
    persistIntervalMs?: number;
  };
}

/** A character as `generate()` requests name it (`npc`); name and personality may be given once. */
export interface ObservedCharacter {
  id: string;
  name?: string;
  personality?: unknown;
}

/** What `observe()` takes. */
export type ObserveEvent =
  | { type: "position"; x: number; y: number }
  | { type: "charactersNearby"; characters: (ObservedCharacter & { distance: number })[] }
  | {
      type: "conversation";
      character: ObservedCharacter;
      responseType?: ResponseType;
      topic?: string;
      importance?: number;
      relationshipLevel?: number;
    }
  | { type: "scene"; scene: string }
  | { type: "clock"; hour: number }
  | { type: "criticalMoment"; active: boolean }
  | { type: "input" }
  | { type: "player"; playerId?: string; playerName?: string }
  | { type: "dialogueOptions"; character: ObservedCharacter; options: DialogueOption[] };

/** A line the game offers the player with a character (`dialogueOptions`): a menu entry, a quest's next step.
 *  Give the members the game's `generate()` call for that choice will have (`canonicalRequest()`'s moment). */
export interface DialogueOption {
  /** Default "dialogue". */
  responseType?: ResponseType;
  /** The choice's text (`context.playerText`); none for a line the character starts. */
  topic?: string;
  /** Default: what the history says of such a line, else 0.5. */
  importance?: number;
}

/** A moment of play a line is wanted for (`canonicalRequest()`): a `conversation` event's members, the scene and
 *  the player id. Build the `generate()` request and the `conversation` event from the same moment, so a line made
 *  ahead of time is found under the request's cache key. */
export interface Moment {
  character: ObservedCharacter;
  /** Default "dialogue". */
  responseType?: ResponseType;
  /** The player's line or dialogue choice (`context.playerText`); none for a line the character starts. */
  topic?: string;
  scene?: string;
  playerId?: string;
  /** The player character's name (`context.playerName`); also a `player` event's member, so pre-generated
   *  requests carry it. */
  playerName?: string;
  /** 0..10, rounded to a whole number in the request. */
  relationshipLevel?: number;
  /** 0..1, default 0.5. */
  importance?: number;
}

/** `metrics().pregen`: what idle-time pre-generation did. */
export interface PregenMetrics {
  /** Candidates predicted, summed over warm-ups (before the cache and the top-N cut). */
  candidates: number;
  candidatesBySource: Partial<Record<CandidateSource, number>>;
  /** Candidates skipped because the cache held their line. */
  skippedCached: number;
  generatedLocal: number;
  generatedCloud: number;
  /** Generations that gave no line to keep (a template, an error). */
  failed: number;
  /** `generate()` hits on pre-generated lines within their TTL. */
  served: number;
  servedBySource: Partial<Record<CandidateSource, number>>;
  /** Pre-generated lines served at least once. */
  used: number;
  /** `generate()` calls that joined a pre-generation of their line in flight (counted in `served` too) rather
   * than start a second one; that waited their `waitMs` for one in vain; that wanted the cloud and found only a
   * local-only one, so went their own way. */
  joined: number;
  joinTimedOut: number;
  joinDeclined: number;
  /** Pre-generated lines whose TTL passed unserved (waste). */
  expiredUnused: number;
  /** Pre-generated lines within their TTL, not served yet. */
  pending: number;
  warmups: number;
  /** Warm-ups stopped part-way by a gate (input, a critical moment, the page hidden). */
  interrupted: number;
  /** The loop's own time on the page's thread, ms: the time inside its polls (checks, ranking, cache lookups,
   * generations, storage writes), not what it awaits (idle slices, IndexedDB, a model in a worker, the cloud). */
  cpuMs: number;
  /** Time the gates let the loop work, ms. */
  idleMs: number;
  /** `cpuMs` per minute of `idleMs`. */
  cpuMsPerIdleMinute: number;
  /** Each gate's decisions, counted once per check. */
  gates: Partial<Record<PregenGate, Partial<Record<GateDecision, number>>>>;
  /** Today's pre-generation spend (UTC day) and its limit (`pregen.budgetShare` of the daily budget), USD. */
  spendUsd: number;
  budgetUsd: number;
  spendTotalUsd: number;
  observed: number;
  /** `observe()` events refused as invalid. */
  rejected: number;
  /** Interactions and characters in the kept history. */
  history: number;
  characters: number;
  /** Parts of the kept history skipped as corrupt at start. */
  corrupt: number;
  storeErrors: number;
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
  flags: FlagsStatus;
  monitor: MonitorSnapshot;
  pregen: PregenMetrics;
}

/** Latency of answers, ms, and failed attempts; figures are null without answers, quantiles within 1 %. */
export interface LatencyStats {
  count: number;
  errors: number;
  errorRate: number | null;
  meanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** An alert raised, or cleared once its figure is back within the target. */
export interface AlertEvent {
  type: AlertType;
  metric: MonitorMetric;
  value: number;
  /** The alert line. */
  threshold: number;
  target: number;
  /** The time the figure covers, ms. */
  windowMs: number;
  atMs: number;
}

/** `metrics().monitor`: the performance monitor (docs/design.md section 9). */
export interface MonitorSnapshot {
  atMs: number;
  windowMs: number;
  latency: Partial<Record<LatencySource, { window: LatencyStats; total: LatencyStats }>>;
  cloudModels: Record<string, { window: LatencyStats; total: LatencyStats }>;
  cacheHitRate: { window: number | null; total: number | null };
  localShare: { window: number | null; total: number | null };
  errorRate: { window: number | null; total: number | null };
  cost: { spentUsd: number | null; budgetUsd: number | null; budgetUsed: number | null };
  battery: { level: number | null; charging: boolean | null; drainPer30Min: number | null; watchedMs: number };
  watch: Record<MonitorMetric, {
    value: number | null; samples: number; target: number; alert: number; moreIsBetter: boolean; alerting: boolean;
  }>;
  /** The alerts raised and not cleared. */
  alerts: AlertEvent[];
  ignoredSamples: number;
  alertsDropped: number;
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
  /** Output tokens a thinking model may spend before its line (0..8192; default 128 for pro, 0 otherwise). */
  thinkingTokens?: number;
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
  /**
   * How long the player waits for the cloud (ms from the call's start) before the local line or a template
   * answers; the cloud call goes on in the background and caches its line for the next identical request.
   * Default 3000; a request's waitMs overrides.
   */
  waitMs?: number;
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
    /** Where the moment happens. A short place name ("the Rusty Anchor", at most 6 words, no `_` or sentence
     *  punctuation) also fills the `{scene}` slot of local replies; an id or a description only reaches the cloud. */
    scene?: string;
    /** The player character's name: the cloud prompt, and the `{player}` slot of local replies (at most 200
     *  characters; a name of up to 40 characters and 6 words is used in a line). */
    playerName?: string;
    /** The conversation's last turns before `playerText`, oldest first: at most 12, each at most 1000
     *  characters. The local responder stays in the conversation's situation for a follow-up ("What does it
     *  pay?") and does not repeat the character's last lines; the cloud sees them in its prompt. They are not part
     *  of the cache key: a line is cached by what the player says to whom. */
    history?: Array<{ speaker: Speaker; text: string }>;
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
  /**
   * Ms the player waits for the cloud, from the call's start (0..2^31-1; default cloud.waitMs, 3000). Past it the
   * local line or a template answers, with a fallback of reason "waitMs", and the cloud call fills the cache.
   */
  waitMs?: number;
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

/** What `takeEvents()` returns, oldest first within each kind: the router's events, then flag changes and
 *  experiment exposures, then the model lifecycle's events, then the monitor's alerts raised and cleared. */
export type UnwrittenEvent = RouterEvent | FlagsEvent | ModelEvent | AlertEvent | WorkerEvent;

/** worker: true only: the runtime's worker died and the next call started a fresh one on the same config. */
export type WorkerEvent = { type: WorkerEventType; reason: string | null; atMs: number };

/** The model lifecycle's events (`takeEvents()`, after the flags' ones). */
export type ModelEvent =
  | { type: "modelUpdateAvailable"; version: string; current: string; channel: string; notes: string | null;
      deferred: UpdateDeferral | null; atMs: number }
  | { type: "modelDownloadProgress"; version: string; loaded: number; total: number; atMs: number }
  | { type: "modelShadowResult"; version: string; result: ShadowResult; atMs: number }
  | { type: "modelUpdated"; from: string; to: string; atMs: number }
  | { type: "modelRollback"; from: string; to: string; reason: RollbackReason; atMs: number }
  | { type: "modelUpdateFailed"; version: string | null; reason: UpdateFailure; rejection: UpdateRejection | null;
      message: string; atMs: number };

/** Flag changes (after a refresh) and experiment exposures (the first `variant()` per session), also from
 *  `takeEvents()`, after the router's. */
export type FlagsEvent =
  | { type: "flagsChanged"; changes: FlagChange[]; atMs: number }
  | { type: "experimentExposure"; experiment: string; variant: string; index: number; atMs: number };

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
  /**
   * Cloud calls left running past waitMs: started, then stored in the cache or failed; lastLatencyMs is the
   * last stored one's time from the call's start (the player's answer came at waitMs).
   */
  lateFills: { started: number; stored: number; failed: number; lastLatencyMs: number | null };
}

/** One cache tier's limits; every field optional (unset fields keep that tier's default). */
/** A flag's value. */
export type FlagValue = boolean | number | string;

/** An A/B experiment. Assignment hashes as GrowthBook's v2 does (FNV-1a 32 of seed + player id), so a game
 *  server can reproduce it; it is kept in localStorage, so a later change of weights does not move a player. */
export interface ExperimentConfig {
  /** 2-20 distinct names; the first is the control, served to a player outside the experiment. */
  variants: string[];
  /** One per variant, each >= 0, summing to 1. Default: equal. */
  weights?: number[];
  /** The share of players in the experiment, 0..1. Default 1. */
  coverage?: number;
  /** Hashed with the player id. Default: the experiment's key. */
  seed?: string;
  /** Raise it to re-assign everyone (a kept assignment counts only for its version). Default 0. */
  version?: number;
  /** false: everyone gets the control and no exposure is reported. Default true. */
  active?: boolean;
}

/** A gradual rollout: `key` reaches `percentage` % of players (the design's stages: 5, 10, 25, 50, 100). A
 *  player is in when fnv1a32(decimal(fnv1a32(key + playerId))) % 10000 < percentage * 100; raising the
 *  percentage only adds players. */
export interface Rollout {
  key: string;
  /** 0..100. */
  percentage: number;
}

/** A flag whose value a refresh changed; `null` where it had or has none (a game flag added or dropped). */
export interface FlagChange {
  name: string;
  old: FlagValue | null;
  new: FlagValue | null;
}

/** What `refreshFlags()` did. */
export interface FlagsRefreshResult {
  outcome: FlagsRefresh;
  changes: FlagChange[];
  /** Entries of the new document left out (a built-in flag of the wrong type, a bad experiment). */
  rejected: number;
  /** Why the fetch failed; the last good copy stays in use. */
  error: string | null;
}

/** `variant(experiment)`. */
export interface Assignment {
  experiment: string;
  /** The control (the first variant) when the player is not in the experiment. */
  variant: string;
  index: number;
  inExperiment: boolean;
  reason: VariantReason;
  /** The first time this session the player is in this experiment (an `experimentExposure` event is queued). */
  firstExposure: boolean;
}

/** `metrics().flags`. */
export interface FlagsStatus {
  /** Wall time (ms) the document in use was fetched or confirmed; null: none. */
  fetchedAtMs: number | null;
  etag: string | null;
  rejected: number;
  problems: string[];
  lastRefresh: FlagsRefresh | null;
  lastError: string | null;
}

/** `config.flags`. A flag's value: the remote document's, else `defaults`, else the built-in default. */
export interface FlagsConfig {
  /** URL of the flag document (https, or http to localhost): `{ flags?: {...}, experiments?: {...},
   *  rollouts?: Rollout[] }`, at most 64 KB. Cross-origin, its server must allow the `If-None-Match` request
   *  header and expose `ETag`. Default: none (the config's values only). */
  url?: string;
  /** Values by flag name (1-64 of A-Z a-z 0-9 _ - . :). Built-in: useLocalAi (true), localAiThreshold (0.3),
   *  enablePregeneration (true), cloudFallback (true), useCache (true), and cloud's preferLocal,
   *  costThresholdUsd, qualityThreshold, minImportance (their configured values). */
  defaults?: Record<string, FlagValue>;
  /** Experiments by key; the document's definition of a key replaces this one. */
  experiments?: Record<string, ExperimentConfig>;
  /** Rollouts; the document's percentage for a key replaces this one. */
  rollouts?: Rollout[];
  /** A kept document younger than this is used without fetching. 0 to 604800000, default 300000. */
  ttlMs?: number;
  /** A fetch of the document is aborted after this long. 100 to 60000, default 5000. */
  timeoutMs?: number;
  /** How often the document is fetched in the background; 0: off. 0 or at least 10000, default 300000. */
  refreshMs?: number;
  /** The id experiments and rollouts hash (1-200 characters). Default: a random id kept in localStorage. */
  playerId?: string;
}

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
/** Who said a turn of `context.history`. */
export type Speaker = "player" | "npc";
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
  | "network" | "malformed" | "aborted" | "waitMs" | "disabled";
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
export type UpdateRejection = "older" | "sameVersion" | "otherChannel" | "runtimeTooOld" | "rolledBack" | "outsideRollout";
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
/** The `type` of a worker-mode event. */
export type WorkerEventType = "runtimeRestarted";
/** The `type` of an `observe()` event. */
export type ObserveType = "position" | "charactersNearby" | "conversation" | "scene" | "clock" | "criticalMoment"
  | "input" | "player" | "dialogueOptions";
/** A condition of the pre-generation loop. */
export type PregenGate = "enabled" | "visible" | "idle" | "critical" | "battery" | "network";
/** What a gate decided. */
export type GateDecision = "pass" | "throttle" | "block";
/** Why a line was pre-generated. */
export type CandidateSource = "proximity" | "morning" | "lunch" | "evening" | "history" | "sequence" | "weekly"
  | "options";
/** Why entries left a cache tier. */
export type EvictionReason = "capacity" | "bytes" | "expired" | "quota" | "invalidated" | "corrupt";
/** Where a flag's value came from: the remote document, `flags.defaults`, or the built-in default. */
export type FlagSource = "remote" | "config" | "default";
/** What a refresh of the flag document did. */
export type FlagsRefresh = "updated" | "notModified" | "fresh" | "failed" | "off";
/** Why `variant()` gave the variant it did. */
export type VariantReason = "assigned" | "sticky" | "outsideCoverage" | "inactive";
/** A figure the performance monitor watches against its target and alert line. */
export type MonitorMetric = "localLatency" | "cloudLatency" | "cacheHitRate" | "batteryDrain" | "localShare"
  | "dailyCost" | "errorRate";
/** A monitor alert event: raised, or cleared once the figure is back within its target. */
export type AlertType = "alert" | "alertCleared";
/** What the monitor times: a `generate()` line by its source (`cloud`: every cloud model), or `analyze()`. */
export type LatencySource = "memory" | "localStorage" | "indexedDb" | "local" | "cloud" | "template" | "analyze"
  | "pregen";

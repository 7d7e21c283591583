// What the demo page passes to UnwrittenAI.create, and where its servers are. Everything here is visible on the
// page (the "config" panel), so a developer sees exactly what the runtime was given.
//
// URL parameters:
//   ?cloud=<base URL>    any OpenAI-compatible gateway (e.g. a LiteLLM proxy's http://127.0.0.1:4000/v1) instead of
//                        the mock cloud; the fault switches then stay off (they drive the mock only)
//   ?key=<key>           the gateway's key, sent as the provider's apiKey (an Authorization header), e.g. a LiteLLM
//                        proxy's test key; a URL lands in the browser's history, so never a real one
//   ?models=<base URL>   the model server (scripts/static-server.mjs models); its live/manifest.json is the release
//   ?timings=design      the package's own defaults (5-minute monitor window, 60 s breaker cooldown, 2 s idle)
//                        instead of the demo's short ones, which let a minute of play show alerts and recovery

// Where scripts/demo (and tests/e2e/run.mjs) started the servers; webpack fills these in (DefinePlugin).
const MOCK_URL = process.env.UNWRITTEN_MOCK_URL;
const MODELS_URL = process.env.UNWRITTEN_MODELS_URL;

const params = new URLSearchParams(location.search);

const withSlash = (url) => (url.endsWith('/') ? url : `${url}/`);

export const NAMESPACE = 'demo-village';
export const PLAYER_ID = 'player-1';
export const SCENE = 'the village square';
/** The player character's name: typed lines pass it (`context.playerName`) for the replies' `{player}` slot. */
export const PLAYER_NAME = 'Wren';

/** The mock cloud's root (for its /__faults switches), or null when the page talks to another gateway. */
export const mockUrl = params.get('cloud') ? null : MOCK_URL.replace(/\/$/, '');
export const cloudUrl = params.get('cloud') || `${MOCK_URL.replace(/\/$/, '')}/v1`;
export const modelsUrl = withSlash(params.get('models') || MODELS_URL);
export const designTimings = params.get('timings') === 'design';
const gatewayKey = params.get('key');

// The demo's timings: a monitor window of 10 s instead of 5 minutes, a report every second, an alert from 3
// samples, a breaker that opens after 3 failures and probes again after 4 s, pre-generation that checks every
// 250 ms and takes the player as idle after 1.5 s. Same mechanisms, on a scale a person watches.
const DEMO_TIMINGS = {
  monitor: { windowMs: 10_000, reportEveryMs: 1_000, minSamples: 3, alertRepeatMs: 10_000 },
  breaker: { failureThreshold: 3, windowMs: 20_000, resetTimeoutMs: 4_000 },
  retries: { maxRetries: 1, backoffBaseMs: 100, backoffMaxMs: 500 },
  pregen: { checkIntervalMs: 250, gates: { idleMs: 1_500 } },
};

/** How often the dashboard asks for a report (onReport), ms. */
export const reportEveryMs = designTimings ? 5_000 : DEMO_TIMINGS.monitor.reportEveryMs;

/** The config as the page shows it: the key, if any, left out. */
export function shownConfig(config) {
  const shown = structuredClone(config);
  if (shown.cloud.providers.gateway.apiKey) shown.cloud.providers.gateway.apiKey = '(from ?key=, not shown)';
  return shown;
}

/** The config for UnwrittenAI.create; `manifestUrl` is the model release the page found (or null: bundled). */
export function runtimeConfig(manifestUrl) {
  const config = {
    namespace: NAMESPACE,
    // onDemand: the page calls loadModel() itself, right after create(), to show the download's progress.
    model: { strategy: 'onDemand', ...(manifestUrl ? { manifestUrl } : {}) },
    cloud: {
      providers: {
        gateway: { kind: 'openai', baseUrl: cloudUrl, batch: !params.get('cloud'), ...(gatewayKey ? { apiKey: gatewayKey } : {}) },
      },
    },
    // Where each cached line lives, made visible: the warmer is off, so every hit shows the tier it really came
    // from, and localStorage keeps only lines worth 0.9 or more (the package's default is 0.3), so a story line
    // (0.7) asked again after a reload is found in IndexedDB rather than in localStorage. Other tiers: defaults.
    cache: { warmEntries: 0, localStorage: { minImportance: 0.9 } },
  };
  if (!designTimings) {
    const t = DEMO_TIMINGS;
    config.monitor = t.monitor;
    Object.assign(config.cloud, { breaker: t.breaker, ...t.retries });
    config.pregen = t.pregen;
  }
  return config;
}

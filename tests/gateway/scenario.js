// The gateway scenario, run in the page by tests/gateway/run.mjs: the packed package (pkg/, web target) talks to a
// real LiteLLM proxy (gateway/litellm-mock.yaml) as its OpenAI-compatible cloud endpoint. Each part uses its own
// runtime (own namespace, so no cache, budget or breaker is shared) and reports what the game would see; run.mjs
// judges it. Nothing here decides pass or fail.
import init, { UnwrittenAI } from '/pkg/index.js';

const out = document.getElementById('out');

// A line that goes to the cloud: importance 0.7 routes `high` (pro); above cloud.minImportance (0.5).
const request = (playerText) => ({
  type: 'dialogue',
  npc: { id: 'bram', name: 'Bram', personality: 'gruff, loyal' },
  context: { playerText, scene: 'the forge' },
  importance: 0.7,
  maxTokens: 80,
  playerId: 'p-gateway',
});

const pick = (r) => ({
  text: r.text, source: r.source, model: r.model, costUsd: r.costUsd, cached: r.cached, route: r.route,
  fallbacks: r.fallbacks.map((f) => ({ step: f.step, model: f.model, reason: f.reason })),
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One runtime whose flash, pro and claude are all `model` at the proxy (null: the runtime's default model ids).
// The player waits for the cloud as long as the cloud step may take (cloud.cloudTimeoutMs, 10 s), so a slow first
// answer on a busy machine is not turned into a late fill; the slow model's part sets its own waitMs.
async function runtime(namespace, gateway, model, cloud = { waitMs: 10_000 }) {
  const models = model ? { flash: { model }, pro: { model }, claude: { model } } : {};
  return UnwrittenAI.create({
    namespace,
    cloud: {
      providers: { gateway: { kind: 'openai', baseUrl: gateway.baseUrl, apiKey: gateway.key } },
      models,
      ...cloud,
    },
  });
}

// 1. A costed line from the proxy, with the runtime's default model ids (which the proxy serves).
async function costed(gateway) {
  const ai = await runtime('gw-costed', gateway, null);
  try {
    const line = pick(await ai.generate(request('Any work for me today?')));
    const m = ai.metrics().router;
    return { line, spentUsd: m.cost.spentUsd, byModel: m.cost.byModel, httpRequests: m.cloud.httpRequests };
  } finally {
    ai.dispose();
  }
}

// 2 and 3. Every model rate-limited at the proxy: call until the breaker is open (bounded), then once more.
async function storm(gateway, model, maxCalls) {
  const ai = await runtime(`gw-${model}`, gateway, model);
  try {
    const lines = [];
    const events = [];
    for (let i = 0; i < maxCalls; i++) {
      // A new line each time: a line the local model wrote is cached, and the same request would hit the cache.
      lines.push(pick(await ai.generate(request(`Storm line ${i}: is the pass open?`))));
      events.push(...ai.takeEvents());
      if (ai.metrics().router.breakers.gateway?.state === 'open') break;
    }
    const afterOpen = pick(await ai.generate(request('And now, with the breaker open?')));
    events.push(...ai.takeEvents());
    const m = ai.metrics().router;
    return {
      lines, afterOpen, events: events.filter((e) => e.type === 'breakerStateChanged'),
      breaker: m.breakers.gateway, errors: m.cloud.errors, httpRequests: m.cloud.httpRequests,
      spentUsd: m.cost.spentUsd,
    };
  } finally {
    ai.dispose();
  }
}

// 4. A slow model (answers after 5 s): the player gets a local or template line at waitMs (1 s here), the cloud call
// goes on and fills the cache, and the same request then gets the cloud's line from the cache.
async function slow(gateway) {
  const ai = await runtime('gw-slow', gateway, 'mock-slow', { waitMs: 1000 });
  try {
    const text = 'Tell me about the old mine.';
    const first = pick(await ai.generate(request(text)));
    let lateFills = ai.metrics().router.lateFills;
    // Bounded: the proxy answers after 5 s, the runtime's cloud step gives up at 10 s.
    for (let i = 0; i < 100 && lateFills.stored + lateFills.failed === 0; i++) {
      await sleep(200);
      lateFills = ai.metrics().router.lateFills;
    }
    const again = pick(await ai.generate(request(text)));
    return { first, lateFills, again, httpRequests: ai.metrics().router.cloud.httpRequests };
  } finally {
    ai.dispose();
  }
}

window.scenario = async (gateway) => {
  out.dataset.state = 'running';
  const report = {};
  try {
    await init();
    report.costed = await costed(gateway);
    report.rateLimited = await storm(gateway, 'mock-rate-limited', 8);
    report.failing = await storm(gateway, 'mock-failing', 8);
    report.slow = await slow(gateway);
    out.dataset.state = 'done';
  } catch (e) {
    report.error = `${e?.name}: ${e?.message}`;
    out.dataset.state = 'failed';
  }
  out.textContent = JSON.stringify(report, null, 2);
  return report;
};
out.dataset.state = 'ready';
out.textContent = 'ready: call scenario({ baseUrl, key })';

// generate() against the mock cloud (tests/browser_router.rs, browser_budget.rs): sources, retries and
// fallbacks, the breaker, sharing and batching, the three provider kinds, waitMs with its late fill, the shared
// daily budget and dispose during a call. Each case resets the mock's faults first.
import type { GenerateRequest, GenerateResult } from 'unwritten-ai';
import { type Case, ENV, mock, resetMock, sleep, stat } from './harness';

const request = (importance: number, playerText: string): GenerateRequest => ({
  type: 'dialogue',
  npc: { id: 'bram', name: 'Bram', personality: 'gruff smith' },
  context: { playerText, scene: 'the forge' },
  importance,
});
const reasons = (r: GenerateResult) => JSON.stringify(r.fallbacks);
const noIdb = { indexedDb: false };

export const ROUTER: Case[] = [
  {
    name: 'router: a healthy cloud answers with a costed model line',
    async run(t) {
      await resetMock();
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud() });
      const r = await ai.generate(request(0.7, 'Any work?'));
      t.eq([r.source, r.model, r.route, r.cached], ['cloud', 'gemini-2.5-pro', 'high', false], 'source, model, route');
      t.ok(r.costUsd > 0 && r.text.length > 0, `cost ${r.costUsd}, text ${r.text}`);
      t.eq(await stat('chat'), 1, 'one chat call');
      t.ok((await ai.refreshDevice()).router.cost.spentUsd > 0, 'spend in the metrics');
    },
  },
  {
    name: 'router: a hanging cloud is aborted at its timeout and a template answers',
    async run(t) {
      await resetMock({ hangRate: 1 });
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud({ cloudTimeoutMs: 300 }) });
      const r = await ai.generate(request(0.7, 'Hello?'));
      t.eq(r.source, 'template', `source (${reasons(r)})`);
      t.ok(reasons(r).includes('timed out'), reasons(r));
      t.eq(await t.until(() => stat('aborted'), (n) => n >= 1, 3_000), 1, 'the server saw the request aborted');
    },
  },
  {
    name: 'router: server errors are retried, then fall back',
    async run(t) {
      await resetMock({ errorRate: 1, errorStatus: 502 });
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud({ maxRetries: 1, backoffBaseMs: 20 }) });
      const r = await ai.generate(request(0.7, 'Hi'));
      t.eq(r.source, 'template', 'source');
      t.ok(reasons(r).includes('502'), reasons(r));
      t.eq(await stat('errors'), 2, 'one try and one retry');
    },
  },
  {
    name: 'router: a rate limit is retried after Retry-After, then falls back',
    async run(t) {
      await resetMock({ status429RetryAfter: 1 });
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud({ maxRetries: 1 }) });
      const r = await ai.generate(request(0.7, 'Hi'));
      t.eq(r.source, 'template', 'source');
      t.ok(reasons(r).includes('429'), reasons(r));
      t.eq(await stat('rateLimited'), 2, 'retried once');
    },
  },
  {
    name: 'router: malformed answers and an offline cloud fall back with their reasons',
    async run(t) {
      await resetMock({ malformedRate: 1 });
      const a = await t.create({ namespace: t.ns('a'), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud({ maxRetries: 0 }) });
      const r = await a.generate(request(0.7, 'Hi'));
      t.eq(r.source, 'template', 'malformed: source');
      t.ok(reasons(r).includes('malformed'), reasons(r));
      await resetMock({ offline: true });
      const b = await t.create({ namespace: t.ns('b'), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud({ maxRetries: 0 }) });
      const o = await b.generate(request(0.7, 'Hi'));
      t.eq(o.source, 'template', 'offline: source');
      t.ok(reasons(o).includes('network'), reasons(o));
    },
  },
  {
    name: 'router: a refusal is retried on a better model',
    async run(t) {
      await resetMock({ refusalRate: 1 });
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud({ maxQualityRetries: 1 }) });
      const r = await ai.generate(request(0.7, 'Hi'));
      t.eq(r.source, 'template', 'every model refuses');
      t.eq(r.fallbacks.map((f) => f.model ?? f.step), ['gemini-2.5-pro', 'claude-3-5-sonnet-latest', 'local'], 'steps');
      t.eq(await stat('refused'), 2, 'refusals');
      t.eq((await ai.refreshDevice()).router.qualityRetries, 2, 'qualityRetries');
    },
  },
  {
    name: 'router: the breaker opens, skips the cloud, and recovers (events)',
    async run(t) {
      await resetMock({ errorRate: 1 });
      const ai = await t.create({
        namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' },
        cloud: t.cloud({ maxRetries: 0, breaker: { failureThreshold: 3, resetTimeoutMs: 400 } }),
      });
      for (let i = 0; i < 3; i++) t.eq((await ai.generate(request(0.7, `try ${i}`))).source, 'template', `try ${i}`);
      t.eq((await ai.refreshDevice()).router.breakers.gateway?.state, 'open', 'open');
      t.ok(reasons(await ai.generate(request(0.7, 'once more'))).includes('breaker'), 'skipped while open');
      t.eq(await stat('chat'), 3, 'no request while open');
      await mock('/__faults', { errorRate: 0 });
      await sleep(450);
      const r = await ai.generate(request(0.7, 'recovered?'));
      t.eq([r.source, r.model], ['cloud', 'gemini-2.5-pro'], 'recovered');
      t.eq((await ai.refreshDevice()).router.breakers.gateway?.state, 'closed', 'closed');
      const moves = ai.takeEvents().flatMap((e) => (e.type === 'breakerStateChanged' ? [`${e.from}>${e.to}`] : []));
      t.eq(moves, ['closed>open', 'open>halfOpen', 'halfOpen>closed'], 'breakerStateChanged events');
    },
  },
  {
    name: 'router: identical requests share a call, distinct ones are batched',
    async run(t) {
      await resetMock({ latencyMs: 50 });
      const ai = await t.create({
        namespace: t.ns(), storage: noIdb,
        cloud: t.cloud({ providers: { gateway: { kind: 'openai', baseUrl: `${ENV.mock}/v1`, batch: true } } }),
      });
      const same = request(0.7, 'the same words');
      const rs = await Promise.all([0, 1, 2].map(() => ai.generate(same)));
      t.ok(rs.every((r) => r.source === 'cloud' && r.text === rs[0].text), JSON.stringify(rs.map((r) => r.source)));
      t.eq(rs.filter((r) => r.shared).length, 2, 'two shared');
      t.eq(await stat('chat'), 1, 'one call for three requests');
      const many = await Promise.all(Array.from({ length: 12 }, (_, i) => ai.generate(request(0.7, `question ${i}`))));
      t.ok(many.every((r) => r.source === 'cloud'), 'all from the cloud');
      t.eq([await stat('batchedItems'), await stat('batches')], [12, 2], '12 calls in two batches');
    },
  },
  {
    name: 'router: Gemini and Anthropic providers against the mock',
    async run(t) {
      await resetMock();
      const ai = await t.create({
        namespace: t.ns(), storage: noIdb,
        cloud: {
          providers: {
            g: { kind: 'gemini', baseUrl: `${ENV.mock}/v1beta`, apiKey: 'test-key' },
            a: { kind: 'anthropic', baseUrl: `${ENV.mock}/v1`, apiKey: 'test-key' },
          },
          models: { pro: { provider: 'g' }, claude: { provider: 'a' }, flash: { provider: 'g' } },
          costThresholdUsd: 1,
        },
      });
      const g = await ai.generate(request(0.7, 'Gemini?'));
      t.eq([g.source, g.model], ['cloud', 'gemini-2.5-pro'], 'gemini');
      t.ok(g.costUsd > 0, 'gemini usage parsed');
      const c = await ai.generate(request(0.9, 'Claude?'));
      t.eq([c.source, c.model], ['cloud', 'claude-3-5-sonnet-latest'], 'anthropic');
      t.ok(c.costUsd > 0, 'anthropic usage parsed');
    },
  },
  {
    name: 'router: malformed requests are InvalidRequest naming the field',
    async run(t) {
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud() });
      await t.rejects(() => ai.generate({ npc: { id: 'a', name: 'A' }, importance: 7 }), 'InvalidRequest', 'importance 7', 'importance');
      await t.rejects(() => ai.generate({ npc: { id: 'a' } } as never), 'InvalidRequest', 'no npc.name', 'npc.name');
      await t.rejects(() => ai.generate({ npc: { id: 'a', name: 'A' }, maxTokns: 9 } as never), 'InvalidRequest', 'maxTokns', 'maxTokns');
      await t.rejects(() => ai.generate(5 as never), 'InvalidRequest', 'generate(5)');
    },
  },
  {
    name: 'router: a cloud slower than waitMs answers at once; its late line is the next hit',
    async run(t) {
      await resetMock({ latencyMs: 2500 });
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud({ waitMs: 500 }) });
      const req = request(0.7, 'Any work at the forge?');
      const first = await ai.generate(req);
      t.ok(['local', 'template'].includes(first.source), `first from ${first.source}`);
      t.ok(reasons(first).includes('"waitMs"'), reasons(first));
      t.eq(first.cached, false, 'not cached');
      // refreshDevice() answers fresh metrics in either mode; worker mode's metrics() is the state the worker last sent.
      t.eq((await ai.refreshDevice()).router.lateFills.started, 1, 'a late fill started');
      const late = await t.until(async () => (await ai.refreshDevice()).router.lateFills, (l) => l.stored === 1, 10_000);
      t.eq([late.stored, late.failed], [1, 0], 'the late line was stored');
      const second = await ai.generate(req);
      t.eq([second.cached, second.source], [true, 'memory'], 'the next identical request is a hit');
      t.eq(await stat('chat'), 1, 'the second answer cost no call');
      await resetMock();
    },
  },
  {
    name: 'router: dispose() during a call rejects it Disposed and aborts the request',
    async run(t) {
      await resetMock({ hangRate: 1 });
      const ai = await t.create({ namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' }, cloud: t.cloud() });
      const call = t.fails(() => ai.generate(request(0.7, 'Still there?')));
      await sleep(300);
      ai.dispose();
      t.eq((await call)?.name ?? null, 'Disposed', 'the call rejects with the runtime');
      t.eq(await t.until(() => stat('aborted'), (n) => n >= 1, 3_000), 1, 'the hanging request was cancelled');
      t.eq(await stat('chat'), 1, 'no retry after dispose');
      await resetMock();
    },
  },
  {
    name: 'budget: two runtimes of one namespace never book more than the daily budget together',
    async run(t) {
      await resetMock({ latencyMs: 150, jitterMs: 150 });
      const budget = 0.1;
      const cloud = t.cloud({
        budget: { dailyUsd: budget },
        models: { pro: { inputUsdPerMtok: 0, outputUsdPerMtok: 1000, thinkingTokens: 0 } },
      });
      const config = { namespace: t.ns(), storage: noIdb, model: { strategy: 'cloudOnly' as const }, cloud };
      const a = await t.create(config);
      const b = await t.create(config);
      const results: GenerateResult[] = [];
      for (let round = 0; round < 4; round++) {
        const calls = Array.from({ length: 8 }, (_, i) => {
          const r = { ...request(0.7, `Any work for me, smith? I am traveller number ${round * 8 + i}.`), maxTokens: 30 };
          return (i % 2 === 0 ? a : b).generate(r);
        });
        results.push(...(await Promise.all(calls)));
      }
      const booked = results.reduce((s, r) => s + r.costUsd, 0);
      const cloudLines = results.filter((r) => r.source === 'cloud').length;
      const refused = results.filter((r) => reasons(r).includes('overBudget')).length;
      t.ok(booked <= budget + 1e-9, `booked $${booked} of $${budget} (${cloudLines} cloud lines)`);
      t.ok(cloudLines >= 2 && refused >= 1, `${cloudLines} cloud lines, ${refused} refused for budget`);
      const seen = Math.max((await a.refreshDevice()).router.cost.spentUsd, (await b.refreshDevice()).router.cost.spentUsd);
      t.ok(Math.abs(seen - booked) < 1e-9, `the shared record holds $${seen}, the lines cost $${booked}`);
      await resetMock();
    },
  },
];

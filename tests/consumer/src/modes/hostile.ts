// A game's bad input, through the public API in either mode (tests/browser_hostile.rs): wrong types, undefined,
// NaN and Infinity, functions, symbols, bigints, cycles, 100,000-deep objects, 10 MB strings, prototype members
// and throwing getters. Each call fails with the named error naming the member, leaves localStorage as it was,
// and the runtime still answers a plain generate() afterwards. Each case notes the (name, field) pairs it saw,
// which tests/e2e/modes.mjs compares between the two modes.
import type { GenerateRequest, UnwrittenAI } from 'unwritten-ai';
import { type Case, type T } from './harness';

const request = (): Record<string, any> => ({ npc: { id: 'bram', name: 'Bram' }, context: { playerText: 'Hello' } });
const big = (n: number) => 'a'.repeat(n);

function deep(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

const stored = (ns: string) =>
  JSON.stringify(Object.keys(localStorage).filter((k) => k.startsWith(`${ns}:`)).sort().map((k) => [k, localStorage.getItem(k)]));

/** A runtime that answered once, and a checker for hostile calls on it. */
async function hostile(t: T) {
  const ai = await t.create({ namespace: t.ns(), model: t.model() });
  const seen: [string, string, string | null][] = [];
  let before = '';
  const answers = async (after: string) => {
    const line = await ai.generate(request() as GenerateRequest).catch((e) => t.ok(false, `after ${after}: generate rejected ${e?.name}: ${e?.message}`));
    t.ok(line && line.text.length > 0, `after ${after}: a line`);
    before = stored(t.ns());
  };
  await answers('create');
  t.note = seen;
  /** `call` fails with `name` naming `field` (a prefix when it ends with "*"). */
  const expect = async (what: string, call: () => unknown, name: string, field: string) => {
    before = stored(t.ns());
    const c = await t.fails(call);
    seen.push([what, c?.name ?? 'resolved', c?.field ?? null]);
    t.ok(c !== null, `${what}: expected ${name}, it did not fail`);
    t.eq(c?.name, name, `${what}: name (${c?.message?.slice(0, 200)})`);
    if (field.endsWith('*')) t.ok(c?.field?.startsWith(field.slice(0, -1)), `${what}: field ${c?.field} starts with ${field}`);
    else t.eq(c?.field, field, `${what}: field`);
    t.eq(stored(t.ns()) === before, true, `${what}: localStorage unchanged`);
    await answers(what);
  };
  return { ai, expect };
}

const key = (ai: UnwrittenAI) => ai.cacheKey({ type: 'greeting', character: 'bram' });

export const HOSTILE: Case[] = [
  {
    name: 'hostile: wrong types for string arguments are named errors',
    async run(t) {
      const { ai, expect } = await hostile(t);
      await expect('cacheInvalidate(42)', () => ai.cacheInvalidate(42 as never), 'InvalidRequest', 'player');
      await expect('cacheGet(42)', () => ai.cacheGet(42 as never), 'InvalidRequest', 'key');
      await expect('cacheGetSync({})', () => ai.cacheGetSync({} as never), 'InvalidRequest', 'key');
      await expect('cachePut(42, text)', () => ai.cachePut(42 as never, 'x'), 'InvalidRequest', 'key');
      await expect('analyze(42)', () => ai.analyze(42 as never), 'InvalidRequest', 'text');
      await expect('generate("hi")', () => ai.generate('hi' as never), 'InvalidRequest', '(request)');
      await expect('generate(undefined)', () => ai.generate(undefined as never), 'InvalidRequest', '(request)');
      await expect('generate(null)', () => ai.generate(null as never), 'InvalidRequest', '(request)');
    },
  },
  {
    name: 'hostile: deep, self-referencing and huge requests are refused at the boundary',
    async run(t) {
      const { ai, expect } = await hostile(t);
      await expect('a 100,000-deep context', () => ai.generate({ ...request(), context: deep(100_000) } as never), 'InvalidRequest', 'context.a.a.*');
      const loop = request();
      loop.context.self = loop.context;
      await expect('a context that contains itself', () => ai.generate(loop as never), 'InvalidRequest', 'context.self.self*');
      const huge = request();
      huge.context.scene = big(5_000_000);
      await expect('a 5 MB scene', () => ai.generate(huge as never), 'InvalidRequest', 'context.scene');
      const wide = request();
      wide.context.list = Array.from({ length: 30_000 }, (_, i) => i);
      await expect('a 30,000-item array', () => ai.generate(wide as never), 'InvalidRequest', 'context.list*');
      await expect('a 1,000-deep config', () => t.create(deep(1_000) as never), 'InvalidConfig', 'a.a*');
    },
  },
  {
    name: 'hostile: numbers that are not numbers and values that are not data are named',
    async run(t) {
      const { ai, expect } = await hostile(t);
      const cases: [string, unknown, string][] = [
        ['importance', Number.NaN, 'importance'],
        ['importance', Number.POSITIVE_INFINITY, 'importance'],
        ['maxTokens', Number.NEGATIVE_INFINITY, 'maxTokens'],
        ['importance', () => 1, 'importance'],
        ['importance', Symbol.for('x'), 'importance'],
        ['importance', 7n, 'importance'],
      ];
      for (const [member, value, field] of cases) {
        await expect(`${member}: ${String(value)}`, () => ai.generate({ ...request(), [member]: value } as never), 'InvalidRequest', field);
      }
      const ok = await t.fails(() => ai.generate({ ...request(), importance: undefined } as never));
      t.eq(ok, null, 'an undefined member is left out');
      const k = key(ai);
      await expect('cachePut(importance NaN)', () => ai.cachePut(k, 'x', Number.NaN), 'InvalidRequest', 'importance');
      await expect('cachePut(importance 2)', () => ai.cachePut(k, 'x', 2), 'InvalidRequest', 'importance');
      const parts: Record<string, any> = { type: 'greeting', character: 'bram', context: {} };
      parts.context.loop = parts;
      await expect('a cache key that contains itself', () => ai.cacheKey(parts as never), 'InvalidRequest', 'context.loop*');
    },
  },
  {
    name: 'hostile: huge texts are capped and a prototype is never read',
    async run(t) {
      const { ai, expect } = await hostile(t);
      const k = key(ai);
      await expect('cachePut(10 MB)', () => ai.cachePut(k, big(10_000_000)), 'InvalidRequest', 'text');
      await expect('cachePutMany(10 MB)', () => ai.cachePutMany([{ key: k, text: big(10_000_000) }]), 'InvalidRequest', 'entries[0].text');
      await expect('cacheInvalidate(1,000 characters)', () => ai.cacheInvalidate('p'.repeat(1_000)), 'InvalidRequest', 'player');
      t.eq((await ai.analyze('word '.repeat(2_000_000))).truncated, true, 'a 10 MB line is read as far as 128 tokens');
      t.ok(await ai.analyze(String.fromCharCode(0xd800)), 'a lone surrogate');
      const proto = Object.create({ bogus: 1, importance: 5 });
      proto.npc = { id: 'bram', name: 'Bram' };
      t.eq((await t.fails(() => ai.generate(proto))) ?? null, null, 'prototype members are not read');
      const getter = request();
      Object.defineProperty(getter, 'importance', { enumerable: true, get: () => { throw new Error('boom'); } });
      await expect('a throwing getter', () => ai.generate(getter as never), 'InvalidRequest', 'importance');
    },
  },
  {
    name: 'hostile: a key a header cannot carry, or a remote in clear text, is refused by name',
    async run(t) {
      const { expect } = await hostile(t);
      const https = 'https://game.example/ai/v1';
      const providers: [string, Record<string, string>, string][] = [
        ['an API key with a line break', { baseUrl: https, apiKey: 'sk-\nsecret' }, 'apiKey'],
        ['an API key outside Latin-1', { baseUrl: https, apiKey: 'sk-ключ-secret' }, 'apiKey'],
        ['a plain http remote', { baseUrl: 'http://api.example.com/v1', apiKey: 'sk-secret' }, 'baseUrl'],
      ];
      for (const [what, provider, field] of providers) {
        const create = () => t.create({ namespace: t.ns('2'), cloud: { providers: { gw: { kind: 'openai', ...provider } } } } as never);
        const c = await t.fails(create);
        t.ok(!(c?.message ?? '').includes('secret'), `${what}: the key is not echoed: ${c?.message}`);
        await expect(what, create, 'InvalidConfig', `cloud.providers.gw.${field}`);
      }
    },
  },
  {
    name: 'hostile: every other method refuses bad arguments by name',
    async run(t) {
      const { ai, expect } = await hostile(t);
      await expect('analyzeBatch(42)', () => ai.analyzeBatch(42 as never), 'InvalidRequest', 'texts');
      await expect('analyzeBatch([1])', () => ai.analyzeBatch([1] as never), 'InvalidRequest', 'texts[0]');
      await expect('cachePutMany([null])', () => ai.cachePutMany([null] as never), 'InvalidRequest', 'entries[0]');
      await expect('onReport(cb, NaN)', () => ai.onReport(() => {}, Number.NaN), 'InvalidRequest', 'everyMs');
      await expect('isEnabled(Symbol)', () => ai.isEnabled(Symbol('x') as never), 'InvalidRequest', 'flag');
      await expect('getFlag({})', () => ai.getFlag({} as never), 'InvalidRequest', 'name');
      await expect('variant(42)', () => ai.variant(42 as never), 'InvalidRequest', 'experiment');
      await expect('inRollout(null)', () => ai.inRollout(null as never), 'InvalidRequest', 'key');
      await expect('canonicalRequest("x")', () => ai.canonicalRequest('x' as never), 'InvalidRequest', '(moment)');
      await expect('observe(42)', () => ai.observe(42 as never), 'InvalidRequest', '(event)');
      t.eq(ai.offReport('x' as never), false, 'offReport of no id');
    },
  },
];

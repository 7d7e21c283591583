// The conversation panel: the picked character (personality sliders, relationship), the player's line, the
// model's reading of it (analyze) and the character's reply (generate) with a badge for its source, latency and
// cost. Requests are built with canonicalRequest() from the same moment the page reports with observe(), so a
// line pre-generated for that moment is found under the request's cache key (the player's name is in both: the
// moment's playerName, and the page's `player` event). Typed lines also pass the conversation's last turns
// (context.history): the local reply stays with the conversation's subject and does not repeat itself.
import { PLAYER_ID, PLAYER_NAME, SCENE } from './config.js';
import { CHARACTERS, TRAITS, npcOf } from './village.js';

const SAVE_KEY = 'demo-village-save';
/** Turns of each conversation passed as `context.history` (the runtime takes up to 12). */
const HISTORY_TURNS = 6;
/** Greetings are routine: local or cache, never the cloud (which takes importance above 0.5). */
const GREETING_IMPORTANCE = 0.5;
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * The game's save: each character's sliders, and the relationship level last told to the runtime in a
 * conversation event (pre-generation builds a greeting's request with the level it was told, so the page asks
 * with the same).
 */
function loadSave() {
  try {
    const s = JSON.parse(localStorage.getItem(SAVE_KEY) || '{}');
    for (const c of CHARACTERS) {
      const saved = s.characters?.[c.id];
      if (Array.isArray(saved?.traits) && saved.traits.length === 5) c.traits = saved.traits.map(Number);
      if (Number.isFinite(saved?.relationship)) c.relationship = saved.relationship;
    }
    return { reported: s.reported && typeof s.reported === 'object' ? s.reported : {} };
  } catch {
    return { reported: {} };
  }
}

/** A horizontal bar with a label and a value (0..1, or -1..1 when `signed`). */
function bar(label, value, signed = false) {
  const row = el('div', 'bar');
  const track = el('span', 'track');
  const fill = el('span', signed ? `fill ${value < 0 ? 'neg' : 'pos'}` : 'fill');
  const v = Math.max(-1, Math.min(1, value));
  if (signed) {
    fill.style.left = `${50 + Math.min(0, v) * 50}%`;
    fill.style.width = `${Math.abs(v) * 50}%`;
  } else {
    fill.style.width = `${Math.max(0, v) * 100}%`;
  }
  track.append(fill);
  row.append(el('span', 'name', label), track, el('span', 'value', value.toFixed(2)));
  return row;
}

function sourceText(r) {
  switch (r.source) {
    case 'memory': case 'localStorage': case 'indexedDb': return `cache · ${r.source}`;
    case 'local': return `local model · ${r.model ?? ''}`;
    case 'cloud': return `cloud · ${r.model ?? ''}`;
    default: return r.source;
  }
}

export function createTalk(ai, { onCharacterChanged, onSaid }) {
  const save = loadSave();
  let current = null;
  let seq = 0;
  /** Each character's conversation so far: the last turns, for `context.history`. */
  const conversations = new Map();
  const persist = () => {
    const characters = Object.fromEntries(CHARACTERS.map((c) => [c.id, { traits: c.traits, relationship: c.relationship }]));
    localStorage.setItem(SAVE_KEY, JSON.stringify({ characters, reported: save.reported }));
  };

  function showCharacter(c) {
    current = c;
    $('talk').dataset.character = c.id;
    $('who').textContent = `${c.name}, the ${c.role}`;
    const sliders = TRAITS.map((t, i) => {
      const row = el('label', 'slider');
      const input = el('input');
      Object.assign(input, { type: 'range', min: '0', max: '1', step: '0.05', value: String(c.traits[i]) });
      input.dataset.trait = t;
      const out = el('span', 'value', c.traits[i].toFixed(2));
      input.addEventListener('input', () => {
        c.traits[i] = Number(input.value);
        out.textContent = c.traits[i].toFixed(2);
        persist();
        onCharacterChanged(c);
      });
      row.append(el('span', 'name', t), input, out);
      return row;
    });
    const rel = el('label', 'slider');
    const relInput = el('input');
    Object.assign(relInput, { type: 'range', min: '0', max: '10', step: '1', value: String(c.relationship), id: 'relationship' });
    const relOut = el('span', 'value', `${c.relationship} / 10`);
    relInput.addEventListener('input', () => {
      c.relationship = Number(relInput.value);
      relOut.textContent = `${c.relationship} / 10`;
      persist();
    });
    rel.append(el('span', 'name', 'relationship'), relInput, relOut);
    $('character-sliders').replaceChildren(...sliders, rel);
    for (const b of ['say', 'greet']) $(b).disabled = false;
  }

  async function reading(text) {
    if (ai.modelStatus().state !== 'ready') {
      $('reading').replaceChildren(el('p', 'muted', 'The local model is not loaded yet: no reading.'));
      return;
    }
    const a = await ai.analyze(text);
    const [neg, neu, pos] = a.sentiment.probs;
    $('reading').replaceChildren(
      el('p', 'said', `“${text}”`),
      el('h4', '', `sentiment: ${a.sentiment.label} · ${a.latencyMs.toFixed(1)} ms`),
      bar('negative', neg), bar('neutral', neu), bar('positive', pos),
      el('h4', '', 'personality of the speaker'),
      ...a.personality.map((p, i) => bar(TRAITS[i], p)),
      el('h4', '', 'relationship toward the listener'),
      bar('affinity', a.relationship, true),
    );
    $('reading').dataset.label = a.sentiment.label;
  }

  /** Asks for the line of `moment`, shows it, and reports the conversation to pre-generation. */
  async function ask(moment, said) {
    const c = current;
    const served = ai.metrics().pregen.served;
    const request = ai.canonicalRequest(moment);
    const turns = conversations.get(moment.character.id) ?? [];
    if (moment.responseType === 'dialogue') {
      request.context = { ...request.context, history: turns.slice(-HISTORY_TURNS) };
    }
    const r = await ai.generate(request);
    // A turn holds at most 1000 characters.
    if (moment.topic) turns.push({ speaker: 'player', text: moment.topic.slice(0, 1000) });
    turns.push({ speaker: 'npc', text: r.text.slice(0, 1000) });
    conversations.set(moment.character.id, turns.slice(-HISTORY_TURNS));
    const pregenerated = ai.metrics().pregen.served > served;
    const event = { type: 'conversation', character: moment.character, responseType: moment.responseType,
      importance: moment.importance };
    if (moment.topic) event.topic = moment.topic;
    if (moment.relationshipLevel !== undefined) {
      event.relationshipLevel = moment.relationshipLevel;
      save.reported[c.id] = moment.relationshipLevel;
      persist();
    }
    ai.observe(event);
    seq += 1;
    const reply = $('reply');
    reply.dataset.source = r.source;
    reply.dataset.cached = String(r.cached);
    reply.dataset.pregenerated = String(pregenerated);
    reply.dataset.seq = String(seq);
    reply.dataset.kind = moment.responseType;
    const badge = el('span', `badge src-${r.source}`, sourceText(r));
    const facts = el('span', 'facts', `${r.latencyMs.toFixed(1)} ms · $${r.costUsd.toFixed(6)} · route ${r.route}`);
    const line = el('p', 'line');
    line.append(el('b', '', `${c.name}: `), document.createTextNode(`“${r.text}”`));
    const parts = [el('p', 'said', said), line, el('div', 'meta')];
    parts[2].append(badge, facts);
    if (pregenerated) parts[2].append(el('span', 'badge pregen', 'pre-generated while you were idle'));
    if (r.fallbacks.length) {
      const list = el('ul', 'fallbacks');
      for (const f of r.fallbacks) list.append(el('li', '', `${f.step}${f.model ? ` (${f.model})` : ''}: ${f.reason} — ${f.detail}`));
      parts.push(el('p', 'muted', 'passed over on the way:'), list);
    }
    reply.replaceChildren(...parts);
    onSaid(r);
  }

  $('talk-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('line').value.trim();
    if (!current || !text) return;
    const importance = Number($('importance').value);
    const moment = {
      character: npcOf(current), responseType: 'dialogue', topic: text, scene: SCENE, playerId: PLAYER_ID,
      playerName: PLAYER_NAME, relationshipLevel: current.relationship, importance,
    };
    Promise.all([reading(text), ask(moment, `You: “${text}”`)]).catch((err) => console.error(err));
  });
  $('greet').addEventListener('click', () => {
    if (!current) return;
    const moment = {
      character: npcOf(current), responseType: 'greeting', scene: SCENE, playerId: PLAYER_ID,
      playerName: PLAYER_NAME, importance: GREETING_IMPORTANCE,
    };
    const level = save.reported[current.id];
    if (Number.isFinite(level)) moment.relationshipLevel = level;
    ask(moment, `You walk up to ${current.name}.`).catch((err) => console.error(err));
  });

  return { showCharacter };
}

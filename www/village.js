// The village: a map (DOM, 1 px per game unit) with three characters and the player. Arrow keys or a click on the
// ground move the player; a click on a character picks them. The page reports every move to the runtime
// (observe: position, charactersNearby, input), which is what lets pre-generation guess the next greeting.

export const MAP = { width: 600, height: 380 };
/** Pre-generation's default proximity range (config.pregen.proximity.range), drawn around the player. */
export const PROXIMITY_RANGE = 100;
const STEP = 20;

export const TRAITS = ['openness', 'conscientiousness', 'extraversion', 'agreeableness', 'neuroticism'];

/** The villagers: where they stand, their personality (0..1 per trait) and relationship to the player (0..10). */
export const CHARACTERS = [
  {
    id: 'brenna', name: 'Brenna', role: 'blacksmith', x: 110, y: 95, color: '#c0392b',
    traits: [0.35, 0.8, 0.4, 0.3, 0.45], relationship: 4,
  },
  {
    id: 'aldo', name: 'Aldo', role: 'innkeeper', x: 445, y: 95, color: '#d68910',
    traits: [0.6, 0.5, 0.9, 0.8, 0.3], relationship: 6,
  },
  {
    id: 'mira', name: 'Mira', role: 'herbalist', x: 300, y: 310, color: '#1e8449',
    traits: [0.85, 0.6, 0.35, 0.75, 0.5], relationship: 5,
  },
];

const PLACES = [
  { name: 'Forge', x: 40, y: 30, w: 140, h: 45 },
  { name: 'Tavern', x: 420, y: 30, w: 140, h: 45 },
  { name: 'Herb garden', x: 230, y: 335, w: 140, h: 35 },
  { name: 'Well', x: 285, y: 175, w: 30, h: 30 },
];

const START = { x: 300, y: 200 };

/** The character as generate() and observe() name it: id, name and personality (role and the five traits). */
export function npcOf(c) {
  const personality = { role: c.role };
  TRAITS.forEach((t, i) => { personality[t] = Math.round(c.traits[i] * 100) / 100; });
  return { id: c.id, name: c.name, personality };
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Builds the map inside `root`. `onMove(player, nearby)` after each move, `onSelect(character)` when one is
 * picked, `onInput()` on every key or click (the idle timer).
 */
export function createVillage(root, { onMove, onSelect, onInput }) {
  const player = { ...START };
  let selected = null;
  root.replaceChildren();
  root.style.width = `${MAP.width}px`;
  root.style.height = `${MAP.height}px`;
  for (const p of PLACES) {
    const place = el('div', 'place', p.name);
    Object.assign(place.style, { left: `${p.x}px`, top: `${p.y}px`, width: `${p.w}px`, height: `${p.h}px` });
    root.append(place);
  }
  const ring = el('div', 'range');
  ring.style.width = ring.style.height = `${2 * PROXIMITY_RANGE}px`;
  root.append(ring);
  const tokens = new Map();
  for (const c of CHARACTERS) {
    const t = el('button', 'npc');
    t.type = 'button';
    t.dataset.id = c.id;
    t.style.left = `${c.x}px`;
    t.style.top = `${c.y}px`;
    t.style.setProperty('--color', c.color);
    t.append(el('span', 'dot'), el('span', 'label', `${c.name} · ${c.role}`));
    t.addEventListener('click', (e) => {
      e.stopPropagation();
      onInput();
      select(c.id);
    });
    root.append(t);
    tokens.set(c.id, t);
  }
  const me = el('div', 'player');
  me.append(el('span', 'dot'), el('span', 'label', 'you'));
  root.append(me);

  const distanceTo = (c) => Math.hypot(c.x - player.x, c.y - player.y);
  const nearby = () => CHARACTERS.map((c) => ({ ...npcOf(c), distance: Math.round(distanceTo(c)) }));

  function render() {
    me.style.left = `${player.x}px`;
    me.style.top = `${player.y}px`;
    ring.style.left = `${player.x - PROXIMITY_RANGE}px`;
    ring.style.top = `${player.y - PROXIMITY_RANGE}px`;
    root.dataset.x = String(player.x);
    root.dataset.y = String(player.y);
    for (const c of CHARACTERS) {
      const t = tokens.get(c.id);
      t.classList.toggle('near', distanceTo(c) < PROXIMITY_RANGE);
      t.classList.toggle('selected', c.id === selected);
    }
  }

  function moveTo(x, y) {
    player.x = Math.round(Math.min(MAP.width - 10, Math.max(10, x)));
    player.y = Math.round(Math.min(MAP.height - 10, Math.max(10, y)));
    render();
    onMove({ ...player }, nearby());
  }

  function select(id) {
    selected = id;
    render();
    onSelect(CHARACTERS.find((c) => c.id === id));
  }

  root.addEventListener('click', (e) => {
    onInput();
    const box = root.getBoundingClientRect();
    moveTo(e.clientX - box.left, e.clientY - box.top);
  });
  document.addEventListener('keydown', (e) => {
    if (/^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName)) return;
    const d = { ArrowLeft: [-STEP, 0], ArrowRight: [STEP, 0], ArrowUp: [0, -STEP], ArrowDown: [0, STEP] }[e.key];
    if (!d) return;
    e.preventDefault();
    onInput();
    moveTo(player.x + d[0], player.y + d[1]);
  });

  render();
  return { player, nearby, select, render, moveTo };
}

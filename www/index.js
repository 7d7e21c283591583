// The demo page: a village (village.js) where the player talks to characters (talk.js), a live dashboard of the
// runtime (dashboard.js), and switches that make things go wrong (controls.js). Everything the page shows comes
// from the package's public API; text from the model or the cloud is only ever set as textContent.
import init, { UnwrittenAI } from 'unwritten-ai';
import { installSimulatedBattery } from './battery.js';
import {
  NAMESPACE, PLAYER_ID, PLAYER_NAME, SCENE, cloudUrl, designTimings, mockUrl, modelsUrl, reportEveryMs, runtimeConfig,
  shownConfig,
} from './config.js';
import { createControls, showProgress } from './controls.js';
import { createDashboard } from './dashboard.js';
import { createTalk } from './talk.js';
import { createVillage } from './village.js';

const $ = (id) => document.getElementById(id);
const EVENT_POLL_MS = 300;
const KEEP_EVENTS = 40;

function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status').textContent = text;
}

/** The model release to follow: the model server's live/manifest.json, else the model bundled in the package. */
async function findRelease() {
  const url = `${modelsUrl}live/manifest.json`;
  try {
    const r = await fetch(url, { cache: 'no-store' });
    if (r.ok) return url;
  } catch {
    // no model server: the bundled model serves
  }
  return null;
}

/** One line for the event log. */
function describe(e) {
  switch (e.type) {
    case 'alert': return `ALERT ${e.metric}: ${round(e.value)} past ${e.threshold} (target ${e.target})`;
    case 'alertCleared': return `cleared ${e.metric}: ${round(e.value)} back within ${e.target}`;
    case 'breakerStateChanged': return `breaker ${e.provider}: ${e.from} → ${e.to}`;
    case 'batteryChanged': return `battery ${e.low ? 'low' : 'ok'} (${e.level == null ? '?' : Math.round(e.level * 100)} %)`;
    case 'budgetAlert': case 'budgetExceeded': return `${e.type}: $${e.spentUsd.toFixed(4)} of $${e.budgetUsd}`;
    case 'modelDownloadProgress': return `model ${e.version}: ${e.loaded} of ${e.total} bytes`;
    case 'modelUpdateAvailable': return `model update available: ${e.version} (serving ${e.current})`;
    case 'modelShadowResult': return `shadow check of ${e.version}: ${e.result.passed ? 'passed' : `failed (${e.result.reason})`}`;
    case 'modelUpdated': return `model updated ${e.from} → ${e.to}`;
    case 'modelRollback': return `model rolled back ${e.from} → ${e.to} (${e.reason})`;
    case 'modelUpdateFailed': return `model update ${e.version ?? ''} failed: ${e.reason} — ${e.message}`;
    default: return e.type;
  }
}

const round = (v) => (Math.abs(v) >= 10 ? Math.round(v) : Math.round(v * 1000) / 1000);

function log(text, kind = 'note') {
  const li = document.createElement('li');
  li.dataset.kind = kind;
  li.textContent = `${new Date().toLocaleTimeString()}  ${text}`;
  $('events').prepend(li);
  while ($('events').children.length > KEEP_EVENTS) $('events').lastElementChild.remove();
}

async function main() {
  installSimulatedBattery();
  await init();
  const manifestUrl = await findRelease();
  const config = runtimeConfig(manifestUrl);
  $('config-json').textContent = JSON.stringify(shownConfig(config), null, 2);
  $('where').textContent = `cloud: ${cloudUrl}${mockUrl ? ' (the mock cloud)' : ''} · model: ${manifestUrl ?? 'bundled in the package'}` +
    ` · timings: ${designTimings ? "the package's defaults" : 'the demo\'s short ones (?timings=design for the defaults)'}`;
  const ai = await UnwrittenAI.create(config);
  window.ai = ai; // to poke at from the console
  $('version').textContent = ai.version();
  setStatus('ready', `ready in ${ai.metrics().startMs.toFixed(0)} ms`);

  const dashboard = createDashboard();
  const refresh = (m) => dashboard.show(m, false);
  ai.observe({ type: 'player', playerId: PLAYER_ID, playerName: PLAYER_NAME });
  ai.observe({ type: 'scene', scene: SCENE });

  const onInput = () => ai.observe({ type: 'input' });
  const village = createVillage($('map'), {
    onMove: (player, nearby) => {
      ai.observe({ type: 'position', x: player.x, y: player.y });
      ai.observe({ type: 'charactersNearby', characters: nearby });
    },
    onSelect: (c) => talk.showCharacter(c),
    onInput,
  });
  const talk = createTalk(ai, {
    // A new personality is news to pre-generation: the greeting it prepares must carry it.
    onCharacterChanged: () => ai.observe({ type: 'charactersNearby', characters: village.nearby() }),
    onSaid: () => refresh(ai.metrics()),
  });
  $('line').addEventListener('keydown', onInput);
  ai.observe({ type: 'charactersNearby', characters: village.nearby() });

  const controls = createControls(ai, { manifestUrl, refresh, log });
  setInterval(() => {
    for (const e of ai.takeEvents()) {
      controls.onEvent(e);
      if (e.type !== 'modelDownloadProgress') log(describe(e), e.type);
    }
  }, EVENT_POLL_MS);
  ai.onReport((m) => dashboard.show(m, true), reportEveryMs);
  dashboard.show(ai.metrics(), true);

  // The model: downloaded (and verified) now, with a progress bar; kept in IndexedDB for the next start.
  $('model-progress-text').textContent = 'loading the model…';
  try {
    const s = await ai.loadModel((loaded, total) => showProgress(loaded, total, 'downloading the model'));
    const bar = $('model-progress');
    bar.max = 1;
    bar.value = 1;
    $('model-progress-text').textContent = `${s.name} ${s.version} ready from ${s.origin} in ${Math.round(s.loadMs)} ms`;
    $('model-progress-text').dataset.state = 'ready';
  } catch (err) {
    $('model-progress-text').textContent = `no local model (${err.name}: ${err.message}); lines come from the cloud and templates`;
    $('model-progress-text').dataset.state = 'failed';
  }
  refresh(ai.metrics());
  log(`${NAMESPACE}: runtime ${ai.version()} started; walk with the arrow keys or click the map`);
}

main().catch((err) => {
  setStatus('error', `${err.name}: ${err.message}`);
  console.error(err);
});

// Switches that make things go wrong, and the model lifecycle buttons. Cloud faults are the mock cloud's own
// switches (POST /__faults); the battery is the simulated one (battery.js); the critical moment is an observe()
// event; model releases are published on the model server (POST {modelsUrl}__publish / __unpublish).
import { battery } from './battery.js';
import { mockUrl, modelsUrl } from './config.js';

const $ = (id) => document.getElementById(id);

// Each switch and the faults it puts in force when on.
const FAULT_SWITCHES = {
  'fault-latency': { latencyMs: 4000 },
  'fault-errors': { errorRate: 1, errorStatus: 500 },
  'fault-429': { status429RetryAfter: 1, rateLimitRate: 1 },
  'fault-offline': { offline: true },
};
const NO_FAULTS = { latencyMs: 0, errorRate: 0, errorStatus: 500, status429RetryAfter: null, rateLimitRate: 1, offline: false };

const LOW_BATTERY = 0.15;
const FULL_BATTERY = 0.8;

function parseVersion(v) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v ?? '');
  return m ? m.slice(1, 4).map(Number) : null;
}

function newer(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return false;
}

async function postJson(url, body) {
  const r = await fetch(url, {
    method: 'POST',
    // text/plain keeps it a simple request (no CORS preflight); both servers read the body as JSON.
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${url} answered ${r.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

/** The next release's version: one patch above the newest of the live manifest and what the device knows. */
export function nextVersion(...known) {
  let best = [0, 0, 0];
  for (const v of known.map(parseVersion)) if (v && newer(v, best)) best = v;
  return `${best[0]}.${best[1]}.${best[2] + 1}`;
}

export function createControls(ai, { manifestUrl, refresh, log }) {
  const setModelNote = (text) => { $('model-note').textContent = text; };

  // ---- cloud faults (the mock's switches) ----
  async function applyFaults() {
    const faults = { ...NO_FAULTS };
    for (const [id, f] of Object.entries(FAULT_SWITCHES)) if ($(id).checked) Object.assign(faults, f);
    const now = await postJson(`${mockUrl}/__faults`, faults);
    $('faults-state').textContent = `mock cloud: ${describeFaults(now)}`;
  }
  if (mockUrl) {
    fetch(`${mockUrl}/__faults`).then((r) => r.json()).then((now) => {
      // The mock outlives the page: show the switches as the mock has them.
      for (const [id, f] of Object.entries(FAULT_SWITCHES)) {
        $(id).checked = Object.entries(f).every(([k, v]) => now[k] === v);
      }
      $('faults-state').textContent = `mock cloud: ${describeFaults(now)}`;
    }).catch((err) => { $('faults-state').textContent = `mock cloud unreachable at ${mockUrl}: ${err.message}`; });
    for (const id of Object.keys(FAULT_SWITCHES)) {
      $(id).addEventListener('change', () => applyFaults().catch((err) => log(`faults: ${err.message}`)));
    }
  } else {
    for (const id of Object.keys(FAULT_SWITCHES)) $(id).disabled = true;
    $('faults-state').textContent = 'cloud faults drive the mock cloud only; this page talks to the ?cloud= gateway';
  }

  // ---- device and game state ----
  $('battery-low').addEventListener('change', async () => {
    battery.setLevel($('battery-low').checked ? LOW_BATTERY : FULL_BATTERY);
    $('battery-state').textContent = `simulated battery: ${Math.round(battery.level * 100)} %, not charging`;
    refresh(await ai.refreshDevice());
  });
  $('battery-state').textContent = `simulated battery: ${Math.round(battery.level * 100)} %, not charging`;
  $('critical').addEventListener('change', () => {
    ai.observe({ type: 'criticalMoment', active: $('critical').checked });
  });
  $('clear-caches').addEventListener('click', async () => {
    await ai.clearCache();
    log('clearCache(): every tier emptied');
    refresh(ai.metrics());
  });

  // ---- model releases ----
  const canPublish = Boolean(manifestUrl);
  for (const id of ['publish', 'unpublish']) $(id).disabled = !canPublish;
  if (!canPublish) setModelNote(`no model server at ${modelsUrl}: the model bundled in the package serves, and releases cannot be published`);

  async function liveVersion() {
    try {
      const r = await fetch(manifestUrl, { cache: 'no-store' });
      return r.ok ? (await r.json()).version : null;
    } catch {
      return null;
    }
  }

  async function check() {
    setModelNote('checkForModelUpdate(): asking the model server…');
    try {
      const s = await ai.checkForModelUpdate();
      setModelNote(`checkForModelUpdate(): ${s.update}${s.updateVersion ? ` ${s.updateVersion}` : ''}` +
        `${s.updateFailure ? ` (${s.updateFailure}: ${s.updateError ?? ''})` : ''}` +
        `${s.updateRejection ? ` (${s.updateRejection})` : ''} — serving ${s.version}`);
    } catch (err) {
      setModelNote(`checkForModelUpdate() failed: ${err.name}: ${err.message}`);
    }
    refresh(ai.metrics());
  }

  $('publish').addEventListener('click', async () => {
    const status = ai.modelStatus();
    const version = nextVersion(await liveVersion(), status.version, status.updateVersion);
    const fault = $('publish-fault').value;
    try {
      const body = { version, ...(fault === 'none' ? {} : { fault }) };
      const r = await postJson(`${modelsUrl}__publish`, body);
      log(`model server: published ${r.version ?? version}${fault === 'none' ? '' : ` (fault: ${fault})`}`);
    } catch (err) {
      setModelNote(`publish failed (does the model server have the __publish control?): ${err.message}`);
      return;
    }
    await check();
  });
  $('unpublish').addEventListener('click', async () => {
    try {
      await postJson(`${modelsUrl}__unpublish`);
      log('model server: unpublished the last release');
      setModelNote(`live release now ${(await liveVersion()) ?? 'none'}`);
    } catch (err) {
      setModelNote(`unpublish failed: ${err.message}`);
    }
  });
  $('check-update').addEventListener('click', () => check());
  $('rollback').addEventListener('click', async () => {
    try {
      const s = await ai.rollbackModel();
      setModelNote(`rollbackModel(): serving ${s.version} again`);
    } catch (err) {
      setModelNote(`rollbackModel(): ${err.name}: ${err.message}`);
    }
    refresh(ai.metrics());
  });

  /** The progress bar follows the update's download (modelDownloadProgress events). */
  function onEvent(e) {
    if (e.type === 'modelDownloadProgress') showProgress(e.loaded, e.total, `downloading ${e.version}`);
    if (e.type === 'modelUpdated') $('model-progress-text').textContent = `${e.to} verified, shadow-checked and swapped in`;
    if (e.type === 'modelUpdateFailed') $('model-progress-text').textContent = `${e.version ?? 'the update'} not installed (${e.reason}); ${ai.modelStatus().version} serves on`;
    if (e.type === 'modelRollback') $('model-progress-text').textContent = `rolled back to ${e.to}`;
  }

  return { onEvent };
}

/** The model download's progress bar (the first load's loadModel() progress, then updates' events). */
export function showProgress(loaded, total, what) {
  const bar = $('model-progress');
  bar.max = total || 1;
  bar.value = total ? Math.min(loaded, total) : 0;
  $('model-progress-text').textContent = `${what}: ${(loaded / 1e6).toFixed(2)} MB${total ? ` of ${(total / 1e6).toFixed(2)} MB` : ''}`;
}

function describeFaults(f) {
  const on = [];
  if (f.offline) on.push('offline');
  if (f.latencyMs) on.push(`${f.latencyMs} ms latency`);
  if (f.errorRate) on.push(`${Math.round(f.errorRate * 100)} % errors (${f.errorStatus})`);
  if (f.status429RetryAfter != null) on.push(`${Math.round(f.rateLimitRate * 100)} % 429 (Retry-After ${f.status429RetryAfter} s)`);
  if (f.hangRate) on.push(`${Math.round(f.hangRate * 100)} % hanging`);
  if (f.malformedRate) on.push(`${Math.round(f.malformedRate * 100)} % malformed`);
  return on.length ? on.join(', ') : 'healthy';
}

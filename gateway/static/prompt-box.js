// Prefline rating page: the prompt box. For raters who may generate (GET /api/generate): "Generate"
// starts a lifecycle, shows progress while inference runs, then hands its candidates to the page
// (kit.showStarted) as a card with vote buttons. Loaded before app.js, which hands it the page's helpers
// (kit). Vanilla JS, no build step; all untrusted text goes through textContent (kit.h).
'use strict';
window.PreflinePromptBox = (kit) => {
  const { $, h, api, sleep, newKey } = kit;
  let generating = false;

  async function load() {
    if (!kit.options().promptBox) return;
    let r;
    try { r = await api('GET', '/api/generate'); } catch { return; }
    if (!kit.session()) return;
    $('generate').hidden = !(r.ok && r.data.canGenerate);
    if ($('generate').hidden) return;
    const sel = $('gen-model');
    const was = sel.value;
    sel.replaceChildren(...r.data.models.map((m) => h('option', { value: m }, m)));
    if (r.data.models.includes(was)) sel.value = was;
    $('gen-count').max = String(r.data.maxCandidates);
    const b = r.data.budget;
    $('gen-budget').textContent = b ? 'Today: ' + b.used + ' of ' + b.limit + ' candidates generated (' + b.remaining + ' left; renews at 00:00 UTC).' : '';
  }

  const genSay = (progress, error) => { $('gen-progress').textContent = progress; $('gen-error').textContent = error || ''; };

  async function generate(event) {
    event.preventDefault();
    if (generating || !kit.session()) return;
    const prompt = $('gen-prompt').value.trim();
    const model = $('gen-model').value;
    const n = Number($('gen-count').value);
    $('gen-prompt').toggleAttribute('aria-invalid', !prompt);
    if (!prompt) return $('gen-prompt').focus(), genSay('', 'Please write a prompt.');
    if (!(Number.isInteger(n) && n >= 1 && n <= Number($('gen-count').max))) return genSay('', 'Candidates: a whole number from 1 to ' + $('gen-count').max + '.');
    const what = n + ' candidate' + (n === 1 ? '' : 's') + ' with ' + model;
    generating = $('gen-submit').disabled = true;
    genSay('Starting: ' + what + '…');
    // One key per click, reused by every retry, so a retry never starts twice.
    const body = { prompt, model, candidates: n, idempotencyKey: newKey() };
    try {
      let r = null;
      for (let attempt = 0; attempt < 4 && !(r && r.status !== 502 && r.status !== 503); attempt++) {
        if (attempt) await sleep(500 * 2 ** (attempt - 1));
        r = await api('POST', '/api/lifecycles', body).catch(() => null);
      }
      if (!kit.session()) return;
      if (!r) return genSay('', 'Could not reach the server — nothing was confirmed. Try again.');
      if (r.status === 401) return kit.showSignin(r.data.error);
      if (!r.ok) return genSay('', r.data.error || 'Could not start (HTTP ' + r.status + ').');
      await follow(r.data.lifecycleId, what);
    } finally {
      generating = $('gen-submit').disabled = false;
      load();
    }
  }

  /** Polls the started lifecycle until its candidates are up (shown first) or it failed. */
  async function follow(id, what) {
    const started = Date.now();
    for (let s = 0; s < 1800; s = Math.round((Date.now() - started) / 1000)) {
      genSay('Generating ' + what + '… ' + s + ' s');
      await sleep(1000);
      const r = await api('GET', '/api/lifecycles/' + encodeURIComponent(id) + '/progress').catch(() => null);
      if (!kit.session()) return;
      if (r && r.status === 401) return kit.showSignin(r.data.error);
      if (r && r.ok && r.data.failure) return genSay('', 'Generating ' + what + ' failed: ' + r.data.failure);
      if (r && r.ok && r.data.lifecycle) {
        kit.showStarted(r.data.lifecycle);
        $('gen-prompt').value = '';
        return genSay('Your candidates are up: vote below.');
      }
    }
    genSay('Still generating ' + what + '; the candidates appear below when ready.');
  }

  $('generate-form').addEventListener('submit', generate);
  return { load };
};

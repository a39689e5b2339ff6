// Prefline rating page: vanilla JS, no build step. All untrusted text goes through textContent.
// This script keeps the session, the list of cards and the campaign view; the cards themselves are
// thumbs.js's and compare.js's, the prompt box prompt-box.js's (all loaded before it).
'use strict';
(() => {
  const SESSION_KEY = 'prefline.session';
  const REFRESH_MS = 5000;
  const KEEP_CLOSED_MS = 60000; // a card closed under the rater's hand stays a while so they can read why
  const $ = (id) => document.getElementById(id);
  const cards = new Map(); // lifecycleId -> card state
  let session = loadSession();
  let timer = null;
  let refreshing = false;
  let uid = 0;
  // A campaign's page (#/campaigns/<id>): one item at a time, handed out by the server (POST …/next).
  const campaignHash = /^#\/campaigns\/([^/]+)$/.exec(location.hash);
  const campaign = campaignHash ? { id: decodeURIComponent(campaignHash[1]), current: null, done: null } : null;
  const WAITING = { paused: 'This campaign is paused; items come back when it resumes.', waiting: 'No item for you right now: every open one has its answers or is taken. Try again in a moment.', finished: 'This campaign is finished. Thank you!', excluded: 'This campaign hands you no more items: too many of your answers to its check items differed from the expected ones. Your answers so far are kept.' };

  // ---- helpers ---------------------------------------------------------------------------------
  function h(tag, attrs, children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of [].concat(children ?? [])) if (c !== null && c !== undefined) el.append(c);
    return el;
  }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function newKey() {
    // randomUUID exists only in secure contexts; plain-http LAN deployments fall back to getRandomValues.
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function api(method, path, body) {
    const headers = { 'X-Prefline-Request': '1' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (session) headers.Authorization = 'Bearer ' + session.token;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    let data = {};
    try { data = (await res.json()) || {}; } catch { /* non-JSON answer, e.g. a proxy error page */ }
    return { status: res.status, ok: res.ok, data };
  }

  function toast(text) {
    const el = $('toast');
    el.textContent = text;
    el.classList.add('show');
    clearTimeout(toast.t);
    toast.t = setTimeout(() => el.classList.remove('show'), 3500);
  }

  // ---- session ---------------------------------------------------------------------------------
  // Ways in (GET /api/auth): an invite link (#/invite/<token>), OIDC when configured (back at
  // #/signed-in), a typed name only on the open panel.
  let options = { openPanel: false, oidc: null };

  function loadSession() {
    try {
      const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
      if (s && s.token && s.rater && Date.parse(s.expiresAt) > Date.now()) return s;
    } catch { /* corrupt storage: ask again */ }
    return null;
  }

  function showSignin(message) {
    session = null;
    localStorage.removeItem(SESSION_KEY);
    clearInterval(timer);
    timer = null;
    cards.clear();
    $('cards').replaceChildren();
    $('board').hidden = true;
    $('generate').hidden = true;
    $('who').hidden = true;
    $('signin').hidden = false;
    $('signin-form').hidden = !options.openPanel;
    $('oidc-row').hidden = !options.oidc;
    if (options.oidc) $('oidc-name').textContent = options.oidc.label;
    $('signin-error').textContent = message || '';
    $('name').value = '';
    if (options.openPanel) $('name').focus();
    else if (options.oidc) $('oidc-link').focus();
  }

  function showBoard() {
    $('signin').hidden = true;
    $('who-name').textContent = session.name;
    const open = session.auth === 'open';
    $('who-note').textContent = open ? '(open panel)' : session.campaign ? '(campaign ' + session.campaign + ')' : '';
    $('change-name').textContent = open ? 'not you? change name' : 'sign out';
    $('who').hidden = false;
    $('board').hidden = false;
    promptBox.load();
    refresh(false);
    clearInterval(timer);
    timer = setInterval(() => { if (!document.hidden) refresh(false); }, REFRESH_MS);
  }

  function startSession(data) {
    session = { token: data.token, rater: data.rater, name: data.name, auth: data.auth, campaign: data.campaign, canGenerate: data.canGenerate === true, expiresAt: data.expiresAt };
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    $('signin-error').textContent = '';
    showBoard();
    $('refresh').focus();
  }

  /** Redeems an invite token or collects an OIDC sign-in; the URL loses the token at once. */
  async function signinWith(body) {
    history.replaceState(null, '', location.pathname + location.search);
    let r;
    try {
      r = await api('POST', '/api/session', body);
    } catch {
      return showSignin('Could not reach the server — check your connection and reload.');
    }
    if (r.status === 201) return startSession(r.data);
    showSignin(r.data.error || 'Could not sign in (HTTP ' + r.status + ').');
  }

  async function signin(event) {
    event.preventDefault();
    const name = $('name').value.trim();
    const err = $('signin-error');
    if (!name) {
      err.textContent = 'Please enter your name.';
      $('name').setAttribute('aria-invalid', 'true');
      $('name').focus();
      return;
    }
    $('name').removeAttribute('aria-invalid');
    const body = { name };
    const needsCode = !$('code-row').hidden;
    if (needsCode) body.accessCode = $('access-code').value;
    let r;
    try {
      r = await api('POST', '/api/session', body);
    } catch {
      err.textContent = 'Could not reach the server — check your connection and try again.';
      return;
    }
    if (r.status === 201) {
      startSession(r.data);
    } else if (r.status === 403 && r.data.code === 'access_denied') {
      $('code-row').hidden = false;
      err.textContent = needsCode ? 'That access code is not right.' : 'This page needs an access code — ask whoever sent you the link.';
      $('access-code').focus();
    } else {
      err.textContent = r.data.error || 'Could not start a session (HTTP ' + r.status + ').';
    }
  }

  // ---- lifecycles ------------------------------------------------------------------------------
  function closesIn(iso) {
    if (!iso) return 'no deadline';
    const min = (Date.parse(iso) - Date.now()) / 60000;
    if (!(min > 0)) return 'closing now';
    if (min < 1) return 'closes in < 1 min';
    if (min < 60) return 'closes in ' + Math.floor(min) + ' min';
    if (min < 48 * 60) return 'closes in ' + Math.floor(min / 60) + ' h';
    return 'closes in ' + Math.floor(min / 1440) + ' d';
  }

  async function refresh(manual) {
    if (refreshing || !session) return;
    refreshing = true;
    const notice = $('notice');
    try {
      if (campaign) return await nextItem(manual);
      const r = await api('GET', '/api/lifecycles');
      if (r.status === 401) return showSignin(r.data.error);
      if (!r.ok) throw new Error(r.data.error || 'HTTP ' + r.status);
      render(r.data.lifecycles || []);
      notice.textContent = manual ? 'Updated.' : '';
    } catch (e) {
      notice.textContent = 'Could not refresh (' + e.message + ') — retrying.';
    } finally {
      refreshing = false;
    }
  }

  // The rater's item: the one they hold (asking again returns it), or after "Next item" another; `done`
  // tells the server they are through with the last one, so it is never handed back.
  async function nextItem(manual) {
    const r = await api('POST', '/api/campaigns/' + encodeURIComponent(campaign.id) + '/next', campaign.done ? { done: campaign.done } : {});
    if (r.status === 401) return showSignin(r.data.error);
    if (!r.ok) throw new Error(r.data.error || 'HTTP ' + r.status);
    campaign.done = null;
    if (r.data.assigned) {
      if (campaign.current && campaign.current !== r.data.lifecycleId) {
        cards.get(campaign.current)?.el.remove();
        cards.delete(campaign.current);
      }
      campaign.current = r.data.lifecycleId;
      render([r.data.lifecycle]);
    } else {
      campaign.current = null;
      for (const card of cards.values()) card.el.remove();
      cards.clear();
      render([]);
    }
    $('empty').textContent = r.data.assigned ? '' : WAITING[r.data.reason] || 'No item right now.';
    $('next').hidden = !r.data.assigned;
    $('notice').textContent = manual ? '' : $('notice').textContent;
  }

  function render(list) {
    if (!session) return;
    const container = $('cards');
    const seen = new Set();
    list.forEach((lc, i) => {
      seen.add(lc.lifecycleId);
      let card = cards.get(lc.lifecycleId);
      const kind = lc.task === 'compare' ? compare : thumbs;
      if (!card) cards.set(lc.lifecycleId, (card = kind.buildCard(lc)));
      kind.updateCard(card, lc);
      // Move only when out of place: moving a node would drop focus inside it.
      if (container.children[i] !== card.el) container.insertBefore(card.el, container.children[i] || null);
    });
    for (const [id, card] of cards) {
      if (seen.has(id) || (card.closedAt && Date.now() - card.closedAt < KEEP_CLOSED_MS) || card.keepUntil > Date.now()) continue;
      card.el.remove();
      cards.delete(id);
    }
    $('empty').hidden = cards.size > 0;
  }

  // ---- answering ------------------------------------------------------------------------------
  // The receipt of an answer to one of a campaign's check (gold) items: whether it matched, and why not.
  function showVerdict(card, gold) {
    if (!gold) return;
    card.verdict.hidden = false;
    card.verdict.className = 'verdict ' + (gold.correct ? 'right' : 'wrong');
    card.verdict.textContent = gold.correct ? 'That is the expected answer.' : 'Not the expected answer. ' + (gold.explanation || '');
  }

  /**
   * POSTs `payload` to `path`, retrying network failures and 502/503 with backoff; the payload (and its
   * idempotency key) stays the same, so a retry never counts twice. Null when the server was never reached.
   */
  async function postRetrying(path, payload) {
    let r = null;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (attempt) await sleep(500 * 2 ** (attempt - 1));
      try {
        r = await api('POST', path, payload);
        if (r.status !== 502 && r.status !== 503) break;
      } catch {
        r = null; // network failure: same key again
      }
    }
    return r;
  }

  // Cards are drawn by their kind's script, which gets the page's helpers: thumbs.js, and compare.js for
  // compare lifecycles ("which is better?").
  const kit = {
    h, closesIn, newKey, toast, postRetrying, showVerdict,
    nextId: () => ++uid,
    session: () => session,
    signInAgain: (message) => { showSignin(message); toast('Please sign in again.'); },
  };
  const thumbs = window.PreflineThumbs(kit);
  const compare = window.PreflineCompare(kit);

  // The prompt box (GET /api/generate, "Generate") is prompt-box.js's; a started lifecycle's card is shown here.
  const promptBox = window.PreflinePromptBox({
    $, h, api, sleep, newKey, showSignin,
    session: () => session,
    options: () => options,
    showStarted(lc) {
      const kind = lc.task === 'compare' ? compare : thumbs;
      let card = cards.get(lc.lifecycleId);
      if (!card) cards.set(lc.lifecycleId, (card = kind.buildCard(lc)));
      card.keepUntil = Date.now() + 60000; // while the list catches up with it
      kind.updateCard(card, lc);
      $('cards').prepend(card.el);
      $('empty').hidden = true;
    },
  });

  // ---- wiring ----------------------------------------------------------------------------------
  $('signin-form').addEventListener('submit', signin);
  $('change-name').addEventListener('click', () => showSignin(''));
  $('refresh').addEventListener('click', () => refresh(true));
  $('next').addEventListener('click', () => {
    if (!campaign) return;
    campaign.done = campaign.current;
    refresh(true);
  });
  document.addEventListener('visibilitychange', () => { if (!document.hidden && session) refresh(false); });

  (async () => {
    try {
      const r = await api('GET', '/api/auth');
      if (r.ok) options = r.data;
    } catch { /* offline: invite links still work once the server is back */ }
    if (campaign) $('board').setAttribute('aria-label', 'Campaign ' + campaign.id);
    const invite = /^#\/invite\/([A-Za-z0-9_.-]+)$/.exec(location.hash);
    if (invite) return signinWith({ invite: invite[1] });
    if (location.hash === '#/signed-in') return signinWith({ oidc: true });
    if (session) showBoard();
    else showSignin('');
  })();
})();

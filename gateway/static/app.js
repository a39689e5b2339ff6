// Prefline rating page: vanilla JS, no build step. All untrusted text goes through textContent.
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

  // This rater's current vote per candidate, remembered locally (the server keeps the truth).
  const votesKey = () => 'prefline.votes.' + session.rater;
  const slot = (lcId, cId) => JSON.stringify([lcId, cId]);
  function myVotes() {
    try { return JSON.parse(localStorage.getItem(votesKey()) || '{}'); } catch { return {}; }
  }
  function remember(lcId, cId, value) {
    const votes = myVotes();
    if (value) votes[slot(lcId, cId)] = value;
    else delete votes[slot(lcId, cId)];
    localStorage.setItem(votesKey(), JSON.stringify(votes));
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

  function quorumOf(lc) {
    const votes = lc.candidates.map((c) => c.tally.votes);
    const q = lc.quorum.votes;
    if (lc.quorum.kind === 'total') {
      const total = votes.reduce((a, b) => a + b, 0);
      return { value: Math.min(total, q), max: q, text: total + ' of ' + q + ' votes' };
    }
    const least = votes.length ? Math.min(...votes) : 0;
    return {
      value: votes.reduce((a, v) => a + Math.min(v, q), 0),
      max: q * Math.max(votes.length, 1),
      text: Math.min(least, q) + ' of ' + q + ' votes on every candidate',
    };
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

  function buildCard(lc) {
    const titleId = 'lc-' + ++uid;
    const card = { id: lc.lifecycleId, candidates: new Map(), closedAt: 0, keepUntil: 0 };
    card.deadline = h('span', { class: 'deadline' });
    card.progress = h('progress', { 'aria-label': 'Quorum progress' });
    card.quorumText = h('span', { class: 'quorum-text' });
    card.list = h('ul', { class: 'candidates' });
    card.outcome = h('p', { class: 'outcome', 'data-role': 'outcome', 'aria-live': 'polite', 'aria-atomic': 'true' });
    card.verdict = h('p', { class: 'verdict', 'data-role': 'verdict', 'aria-live': 'polite', hidden: true });
    const chips = [];
    if (lc.campaign) chips.push(h('span', { class: 'chip' }, 'campaign: ' + lc.campaign));
    for (const m of lc.models || []) chips.push(h('span', { class: 'chip' }, 'model: ' + m));
    if (lc.modelVersion) chips.push(h('span', { class: 'chip' }, 'version: ' + lc.modelVersion));
    card.el = h('article', { class: 'card', 'data-lifecycle-id': lc.lifecycleId, 'aria-labelledby': titleId }, [
      h('h2', { id: titleId, class: 'prompt' }, lc.prompt),
      h('p', { class: 'meta' }, [card.deadline, ...chips]),
      h('div', { class: 'quorum' }, [card.progress, card.quorumText]),
      card.list,
      card.outcome,
      card.verdict,
    ]);
    return card;
  }

  function updateCard(card, lc) {
    if (!card.closedAt) card.deadline.textContent = closesIn(lc.deadlineAt);
    if (lc.deadlineAt) card.deadline.title = new Date(lc.deadlineAt).toLocaleString();
    const q = quorumOf(lc);
    card.progress.max = q.max;
    card.progress.value = q.value;
    card.quorumText.textContent = 'Quorum: ' + q.text;
    for (const c of lc.candidates) {
      let cand = card.candidates.get(c.id);
      if (!cand) {
        card.candidates.set(c.id, (cand = buildCandidate(card, lc, c)));
        card.list.append(cand.el);
      }
      setTally(cand, c.tally);
    }
    syncPressed(card);
  }

  function buildCandidate(card, lc, c) {
    const cand = { id: c.id, label: c.label, pending: false };
    const media = c.kind === 'image'
      ? h('img', { src: c.artifact.url, alt: 'Candidate ' + c.label + ' for: ' + lc.prompt, decoding: 'async' })
      : h('div', { class: 'text-candidate' }, c.text ?? '(text unavailable)');
    const caption = h('figcaption', null, [h('strong', null, 'Candidate ' + c.label)]);
    if ((lc.models || []).length > 1) caption.append(h('span', { class: 'model' }, c.model));
    if (c.placeholder) caption.append(h('span', { class: 'badge' }, 'demo placeholder — not a model output'));
    cand.up = h('span', { class: 'n' });
    cand.down = h('span', { class: 'n' });
    // The word beside the emoji keeps the buttons readable on systems without an emoji font.
    const button = (value, word, emoji) =>
      h('button', { type: 'button', class: 'vote ' + value, 'aria-label': 'Thumbs ' + value + ' for candidate ' + c.label, 'aria-pressed': 'false', onclick: () => vote(card, cand, value) }, [
        h('span', { class: 'emoji' }, emoji),
        h('span', { class: 'word' }, word),
      ]);
    cand.btnUp = button('up', 'Good', '👍');
    cand.btnDown = button('down', 'Bad', '👎');
    const commentId = 'comment-' + ++uid;
    cand.comment = h('textarea', { id: commentId, maxlength: 2000, rows: 2 });
    cand.el = h('li', { class: 'candidate', 'data-candidate-id': c.id }, [
      h('figure', null, [media, caption]),
      h('p', { class: 'tally' }, ['👍 ', cand.up, ' / 👎 ', cand.down]),
      h('div', { class: 'actions' }, [cand.btnUp, cand.btnDown]),
      h('details', { class: 'comment' }, [
        h('summary', null, 'Add a comment (optional)'),
        h('label', { for: commentId, class: 'vh' }, 'Comment on candidate ' + c.label + ', sent with your next vote'),
        cand.comment,
      ]),
    ]);
    return cand;
  }

  function setTally(cand, tally) {
    cand.up.textContent = String(tally.up);
    cand.down.textContent = String(tally.down);
  }

  function syncPressed(card) {
    const votes = myVotes();
    for (const cand of card.candidates.values()) {
      const mine = votes[slot(card.id, cand.id)];
      cand.btnUp.setAttribute('aria-pressed', String(mine === 'up'));
      cand.btnDown.setAttribute('aria-pressed', String(mine === 'down'));
    }
  }

  function closeCard(card) {
    card.closedAt = Date.now();
    card.el.classList.add('closed');
    card.deadline.textContent = 'voting closed';
    for (const cand of card.candidates.values()) {
      cand.btnUp.disabled = true;
      cand.btnDown.disabled = true;
    }
  }

  // ---- voting ----------------------------------------------------------------------------------
  const WORD = { up: '👍', down: '👎' };

  async function vote(card, cand, clicked) {
    if (cand.pending || card.closedAt || !session) return;
    const current = myVotes()[slot(card.id, cand.id)];
    const value = current === clicked ? 'retract' : clicked; // clicking your current vote again takes it back
    const comment = cand.comment.value.trim();
    // One key per click, reused by every retry, so a retry never counts twice.
    const payload = { candidateId: cand.id, value, idempotencyKey: newKey() };
    if (comment) payload.comment = comment;
    const path = '/api/lifecycles/' + encodeURIComponent(card.id) + '/votes';
    cand.pending = true;
    cand.el.setAttribute('aria-busy', 'true');
    card.outcome.textContent = 'Sending…';
    const r = await postRetrying(path, payload);
    cand.pending = false;
    cand.el.removeAttribute('aria-busy');
    if (!session) return;
    const who = 'candidate ' + cand.label;
    let message;
    if (!r) {
      message = 'Could not reach the server — your vote on ' + who + ' was not confirmed. Try again.';
    } else if (r.status === 200) {
      const outcome = r.data.outcome;
      remember(card.id, cand.id, value === 'retract' || outcome === 'retracted' ? null : value);
      if (r.data.candidate) setTally(cand, r.data.candidate);
      syncPressed(card);
      if (comment) cand.comment.value = '';
      message = value === 'retract' ? outcome + ': your vote on ' + who : outcome + ': ' + WORD[value] + ' for ' + who;
      if (comment) message += ' (with comment)';
      showVerdict(card, r.data.gold);
    } else if (r.status === 401) {
      showSignin(r.data.error || 'your session is no longer valid — sign in again');
      toast('Please sign in again.');
      return;
    } else if (r.data.code === 'voting_closed') {
      closeCard(card);
      message = 'voting closed — this lifecycle no longer takes votes';
    } else {
      message = (r.data.error || 'error (HTTP ' + r.status + ')') + ' — ' + who;
    }
    card.outcome.textContent = message;
    toast(message);
  }

  /**
   * POSTs `payload` to `path`, retrying network failures and 502/503 with backoff; the payload (and its
   * idempotency key) stays the same, so a retry never counts twice. Null when the server was never reached.
   */
  // The receipt of an answer to one of a campaign's check (gold) items: whether it matched, and why not.
  function showVerdict(card, gold) {
    if (!gold) return;
    card.verdict.hidden = false;
    card.verdict.className = 'verdict ' + (gold.correct ? 'right' : 'wrong');
    card.verdict.textContent = gold.correct ? 'That is the expected answer.' : 'Not the expected answer. ' + (gold.explanation || '');
  }

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

  // Compare lifecycles ("which is better?") are compare.js's; it gets the page's helpers.
  const thumbs = { buildCard, updateCard };
  const compare = window.PreflineCompare({
    h, closesIn, newKey, toast, postRetrying, showVerdict,
    nextId: () => ++uid,
    session: () => session,
    signInAgain: (message) => { showSignin(message); toast('Please sign in again.'); },
  });

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

// Prefline chat page: vanilla JS, no build step. All untrusted text goes through textContent.
'use strict';
(() => {
  const SESSION_KEY = 'prefline.session'; // the rating page's session: one sign-in for both pages
  const $ = (id) => document.getElementById(id);
  let session = loadSession();
  let config = { models: [], reasonTags: [], maxMessageChars: 8000, streaming: false };
  let current = null; // { id, transcript }
  let busy = false;
  let compareTurn = null;

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

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function headers(json) {
    const hs = { 'X-Prefline-Request': '1' };
    if (json) hs['Content-Type'] = 'application/json';
    if (session) hs.Authorization = 'Bearer ' + session.token;
    return hs;
  }

  async function api(method, path, body) {
    const res = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    let data = {};
    try { data = (await res.json()) || {}; } catch { /* not JSON */ }
    if (res.status === 401) showSignin(data.error || 'Please sign in again.');
    return { status: res.status, ok: res.ok, data };
  }

  function announce(text) {
    $('live').textContent = '';
    // A fresh text node makes screen readers announce it even when it repeats.
    setTimeout(() => { $('live').textContent = text; }, 30);
  }

  function notice(text) {
    $('notice').textContent = text || '';
  }

  const path = (suffix) => '/api/chat/conversations/' + encodeURIComponent(current.id) + (suffix || '');

  // ---- session ---------------------------------------------------------------------------------
  function loadSession() {
    try {
      const s = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
      if (s && s.token && s.rater && Date.parse(s.expiresAt) > Date.now()) return s;
    } catch { /* corrupt storage */ }
    return null;
  }

  function showSignin(message) {
    session = null;
    localStorage.removeItem(SESSION_KEY);
    for (const id of ['sidebar', 'conversation', 'who']) $(id).hidden = true;
    $('signin').hidden = false;
    $('signin-error').textContent = message || '';
  }

  function startSession(data) {
    session = { token: data.token, rater: data.rater, name: data.name, auth: data.auth, campaign: data.campaign, expiresAt: data.expiresAt };
    localStorage.setItem(SESSION_KEY, JSON.stringify(session));
    showApp();
  }

  async function signinWith(body) {
    history.replaceState(null, '', location.pathname + location.search);
    const r = await api('POST', '/api/session', body).catch(() => null);
    if (r && r.status === 201) return startSession(r.data);
    showSignin((r && r.data.error) || 'Could not sign in.');
  }

  // ---- conversations ---------------------------------------------------------------------------
  async function showApp() {
    $('signin').hidden = true;
    $('who-name').textContent = session.name;
    $('who').hidden = false;
    $('sidebar').hidden = false;
    const r = await api('GET', '/api/chat/config');
    if (!r.ok) return notice(r.data.error || 'The chat is not available here.');
    config = r.data;
    $('model').replaceChildren(...config.models.map((m) => h('option', { value: m }, m)));
    await refreshList();
    const wanted = /^#\/c\/(.+)$/.exec(location.hash);
    if (wanted) await openConversation(decodeURIComponent(wanted[1]));
  }

  async function refreshList() {
    const r = await api('GET', '/api/chat/conversations');
    if (!r.ok) return;
    const list = r.data.conversations || [];
    $('list-empty').hidden = list.length > 0;
    $('conversations').replaceChildren(...list.map((c) => h('li', null, [
      h('button', {
        type: 'button', class: 'conversation-link' + (current && current.id === c.conversationId ? ' current' : ''),
        'aria-current': current && current.id === c.conversationId ? 'true' : null,
        onclick: () => openConversation(c.conversationId),
      }, [
        h('span', { class: 'title' }, c.title || '(no messages yet)'),
        h('span', { class: 'when' }, new Date(c.startedAt).toLocaleString() + ' · ' + c.model + (c.status === 'ended' ? ' · ended' : '')),
      ]),
    ])));
  }

  async function newConversation(event) {
    event.preventDefault();
    const r = await api('POST', '/api/chat/conversations', { model: $('model').value, idempotencyKey: newKey() });
    if (r.status !== 201) return notice(r.data.error || 'Could not start a conversation.');
    await openConversation(r.data.conversationId);
    refreshList();
    $('composer-text').focus();
  }

  async function openConversation(id) {
    current = { id, transcript: null };
    history.replaceState(null, '', '#/c/' + encodeURIComponent(id));
    $('conversation').hidden = false;
    await reload();
    refreshList();
    $('conversation-title').focus();
  }

  async function reload() {
    const r = await api('GET', path());
    if (!r.ok) {
      notice(r.data.error || 'Could not load the conversation.');
      return;
    }
    current.transcript = r.data;
    render();
  }

  // ---- rendering -------------------------------------------------------------------------------
  function render() {
    const t = current.transcript;
    const s = t.status;
    $('conversation-title').textContent = s.title || 'New conversation';
    $('conversation-id').textContent = 'id ' + s.conversationId;
    $('conversation-model').textContent = 'model ' + s.model;
    const ended = s.phase === 'ended';
    $('conversation-state').textContent = ended ? (s.endReason === 'idle' ? 'ended after inactivity' : 'ended') : '';
    $('composer-text').disabled = ended;
    $('send').disabled = ended || busy;
    $('clear').hidden = ended;
    $('reopen').hidden = !(ended && s.endReason === 'idle');
    $('composer-text').maxLength = config.maxMessageChars || 8000;
    // Keep focus where it was across the re-render (by the element's key).
    const focusKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : undefined;
    const byId = new Map(t.messages.map((m) => [m.id, m]));
    const items = [];
    for (const turn of t.turns) {
      const user = byId.get(turn.userMessageId);
      if (user) items.push(messageItem(user));
      turn.replyIds.forEach((id) => { const m = byId.get(id); if (m) items.push(replyItem(m, turn, ended)); });
      if (turn.failed && turn.replyIds.length === 0) items.push(h('li', { class: 'message failed' }, 'The model could not answer: ' + turn.failed));
    }
    const last = t.turns[t.turns.length - 1];
    if (last && !ended) {
      const actions = [h('button', { type: 'button', 'data-key': 'regenerate', onclick: () => reply('regenerate', {}) , disabled: busy }, 'Regenerate')];
      if (last.replyIds.length >= 2) actions.push(h('button', { type: 'button', 'data-key': 'compare', onclick: () => openCompare(last) }, 'Compare two replies'));
      items.push(h('li', { class: 'turn-actions' }, actions));
    }
    $('messages').replaceChildren(...items);
    if (focusKey) {
      const again = document.querySelector('[data-key="' + CSS.escape(focusKey) + '"]');
      if (again) again.focus();
    }
  }

  function messageItem(m) {
    return h('li', { class: 'message user', 'data-message-id': m.id }, [
      h('span', { class: 'role' }, 'You'),
      h('div', { class: 'text' }, m.text ?? '(text unavailable)'),
    ]);
  }

  function replyItem(m, turn, ended) {
    const label = 'reply ' + (m.replyIndex + 1) + (turn.replyIds.length > 1 ? ' of ' + turn.replyIds.length : '');
    const rating = m.rating ? m.rating.value : null;
    const rate = (value) => act('/ratings', { replyId: m.id, value: rating === value ? 'retract' : value }, rating === value ? 'rating withdrawn' : 'rated ' + (value === 'up' ? '👍' : '👎'));
    const thumb = (value, emoji, word) => h('button', {
      type: 'button', class: 'vote ' + value, 'data-key': m.id + ':' + value, 'aria-pressed': String(rating === value),
      'aria-label': (value === 'up' ? 'Good' : 'Bad') + ' reply (' + label + ')', disabled: ended, onclick: () => rate(value),
    }, [h('span', { class: 'emoji', 'aria-hidden': 'true' }, emoji), h('span', { class: 'word' }, word)]);
    const children = [
      h('span', { class: 'role' }, ['Model', h('span', { class: 'reply-label' }, ' · ' + label), m.placeholder ? h('span', { class: 'badge' }, 'demo placeholder — not a model output') : null,
        turn.activeReplyId === m.id && turn.replyIds.length > 1 ? h('span', { class: 'chip' }, 'continued from') : null]),
      h('div', { class: 'text reply-text' }, m.text ?? '(text unavailable)'),
      h('div', { class: 'actions' }, [thumb('up', '👍', 'Good'), thumb('down', '👎', 'Bad')]),
    ];
    if (rating && config.reasonTags.length > 0) {
      const id = 'reason-' + m.id;
      children.push(h('div', { class: 'reason' }, [
        h('label', { for: id }, 'Reason'),
        h('select', { id, 'data-key': m.id + ':reason', disabled: ended, onchange: (e) => act('/ratings', { replyId: m.id, value: rating, reason: e.target.value || undefined }, 'reason saved') },
          [h('option', { value: '' }, '(none)'), ...config.reasonTags.map((tag) => h('option', { value: tag, selected: m.rating.reason === tag }, tag))]),
      ]));
    }
    if (!ended) {
      children.push(textForm(m, 'feedback', 'Add feedback', 'Feedback on ' + label, '/feedback', 'feedback sent'));
      children.push(textForm(m, 'correction', m.corrected ? 'Correct it again' : 'Write the correct answer', 'The answer ' + label + ' should have been', '/corrections', 'correction saved'));
    }
    const notes = [];
    if (m.feedbackCount) notes.push(m.feedbackCount + ' feedback');
    if (m.corrected) notes.push('corrected');
    if (notes.length) children.push(h('p', { class: 'notes' }, notes.join(' · ')));
    return h('li', { class: 'message assistant', 'data-message-id': m.id }, children);
  }

  function textForm(m, kind, summary, labelText, endpoint, done) {
    const id = kind + '-' + m.id;
    const area = h('textarea', { id, rows: 2, maxlength: config.maxMessageChars, 'data-key': id });
    const form = h('form', {
      class: 'text-form', onsubmit: async (e) => {
        e.preventDefault();
        const text = area.value.trim();
        if (!text) return area.focus();
        if (await act(endpoint, { replyId: m.id, text }, done)) area.value = '';
      },
    }, [h('label', { for: id }, labelText), area, h('button', { type: 'submit', 'data-key': id + ':send' }, 'Send ' + kind)]);
    return h('details', { class: 'comment', 'data-key': id + ':details' }, [h('summary', null, summary), form]);
  }

  // ---- actions ---------------------------------------------------------------------------------
  async function act(endpoint, body, done) {
    const r = await api('POST', path(endpoint), { ...body, idempotencyKey: newKey() });
    if (!r.ok) {
      notice((r.data.error || 'error') + (r.data.detail ? ': ' + r.data.detail : ''));
      return false;
    }
    notice('');
    announce(done);
    await reload();
    return true;
  }

  /** Sends a message (or regenerates) and shows the reply as it streams in. */
  async function reply(kind, body) {
    if (busy || !current) return;
    busy = true;
    $('send').disabled = true;
    notice('');
    const list = $('messages');
    if (kind === 'send') list.append(h('li', { class: 'message user pending' }, [h('span', { class: 'role' }, 'You'), h('div', { class: 'text' }, body.text)]));
    const text = h('div', { class: 'text reply-text' });
    // aria-busy keeps screen readers from reading every piece; they read the reply once it is done.
    const bubble = h('li', { class: 'message assistant streaming', 'aria-live': 'polite', 'aria-busy': 'true' }, [h('span', { class: 'role' }, 'Model (writing…)'), text]);
    list.append(bubble);
    bubble.scrollIntoView({ block: 'nearest' });
    let outcome = null;
    try {
      const res = await fetch(path(kind === 'send' ? '/messages' : '/regenerate'), {
        method: 'POST', headers: { ...headers(true), Accept: config.streaming ? 'text/event-stream' : 'application/json' },
        body: JSON.stringify({ ...body, idempotencyKey: newKey() }),
      });
      if ((res.headers.get('content-type') || '').startsWith('text/event-stream')) {
        outcome = await readEvents(res, (name, data) => {
          if (name === 'delta') text.textContent += data.text;
          else if (name === 'reset') text.textContent = '';
        });
      } else {
        const data = await res.json().catch(() => ({}));
        outcome = res.ok ? { name: 'reply', data } : { name: 'error', data };
        if (res.status === 401) showSignin(data.error);
      }
    } catch {
      outcome = { name: 'error', data: { error: 'Could not reach the server — check your connection.' } };
    }
    busy = false;
    bubble.setAttribute('aria-busy', 'false');
    if (outcome && outcome.name === 'reply') {
      announce('Reply finished: ' + (outcome.data.reply.text || ''));
      await reload();
      refreshList(); // a first message gives the conversation its title
    } else {
      notice((outcome && outcome.data.error) || 'The reply did not arrive.');
      await reload();
    }
    if (!$('composer-text').disabled) $('composer-text').focus();
  }

  /** Reads server-sent events from a fetch response until the final `reply` or `error` event. */
  async function readEvents(res, onEvent) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let final = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = (/^event: (.*)$/m.exec(block) || [])[1] || 'message';
        const raw = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        let data = {};
        try { data = JSON.parse(raw); } catch { continue; }
        if (name === 'reply' || name === 'error') final = { name, data };
        else onEvent(name, data);
      }
    }
    return final;
  }

  function openCompare(turn) {
    const [a, b] = turn.replyIds.slice(-2);
    // Shown in a random order, and the order shown is what the judgement records.
    const [left, right] = Math.random() < 0.5 ? [a, b] : [b, a];
    const byId = new Map(current.transcript.messages.map((m) => [m.id, m]));
    compareTurn = { left, right };
    $('compare-left').textContent = byId.get(left).text || '';
    $('compare-right').textContent = byId.get(right).text || '';
    $('compare').hidden = false;
    $('compare-title').focus();
  }

  async function judge(choice) {
    if (!compareTurn) return;
    const { left, right } = compareTurn;
    closeCompare();
    await act('/comparisons', { left, right, choice }, { left: 'reply A preferred', right: 'reply B preferred', tie: 'a tie', both_bad: 'both bad' }[choice]);
  }

  function closeCompare() {
    compareTurn = null;
    $('compare').hidden = true;
    $('composer-text').focus();
  }

  // ---- wiring ----------------------------------------------------------------------------------
  $('new-form').addEventListener('submit', newConversation);
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('composer-text').value.trim();
    if (!text) return $('composer-text').focus();
    $('composer-text').value = '';
    reply('send', { text });
  });
  $('composer-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $('composer').requestSubmit();
    }
  });
  $('clear').addEventListener('click', async () => {
    if (!confirm('End this conversation? It stays in your list, but you cannot continue it.')) return;
    await act('/end', {}, 'conversation ended');
    refreshList();
  });
  $('reopen').addEventListener('click', async () => {
    const r = await api('POST', path('/reopen'), {});
    if (!r.ok) return notice(r.data.error || 'Could not reopen it.');
    await reload();
    refreshList();
    $('composer-text').focus();
  });
  for (const button of document.querySelectorAll('#compare [data-choice]')) button.addEventListener('click', () => judge(button.dataset.choice));
  $('compare-cancel').addEventListener('click', closeCompare);
  $('compare').addEventListener('keydown', (e) => { if (e.key === 'Escape') closeCompare(); });
  $('sign-out').addEventListener('click', () => showSignin(''));
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    if (name) signinWith({ name });
  });

  (async () => {
    const invite = /^#\/invite\/([A-Za-z0-9_.-]+)$/.exec(location.hash);
    if (invite) return signinWith({ invite: invite[1] });
    const auth = await api('GET', '/api/auth').catch(() => null);
    $('signin-form').hidden = !(auth && auth.data.openPanel);
    if (session) showApp();
    else showSignin('');
  })();
})();

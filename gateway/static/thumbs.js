// Prefline rating page: thumbs lifecycles (a card per lifecycle, 👍/👎 per candidate, an optional comment).
// Loaded before app.js, which hands it the page's helpers (kit) and keeps the session, the list and the
// campaign view. Vanilla JS, no build step; all untrusted text goes through textContent (kit.h).
'use strict';
window.PreflineThumbs = (kit) => {
  const { h } = kit;

  // This rater's current vote per candidate, remembered locally (the server keeps the truth).
  const votesKey = () => 'prefline.votes.' + kit.session().rater;
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

  function buildCard(lc) {
    const titleId = 'lc-' + kit.nextId();
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
    if (!card.closedAt) card.deadline.textContent = kit.closesIn(lc.deadlineAt);
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
    const commentId = 'comment-' + kit.nextId();
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
    if (cand.pending || card.closedAt || !kit.session()) return;
    const current = myVotes()[slot(card.id, cand.id)];
    const value = current === clicked ? 'retract' : clicked; // clicking your current vote again takes it back
    const comment = cand.comment.value.trim();
    // One key per click, reused by every retry, so a retry never counts twice.
    const payload = { candidateId: cand.id, value, idempotencyKey: kit.newKey() };
    if (comment) payload.comment = comment;
    const path = '/api/lifecycles/' + encodeURIComponent(card.id) + '/votes';
    cand.pending = true;
    cand.el.setAttribute('aria-busy', 'true');
    card.outcome.textContent = 'Sending…';
    const r = await kit.postRetrying(path, payload);
    cand.pending = false;
    cand.el.removeAttribute('aria-busy');
    if (!kit.session()) return;
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
      kit.showVerdict(card, r.data.gold);
    } else if (r.status === 401) {
      return kit.signInAgain(r.data.error || 'your session is no longer valid — sign in again');
    } else if (r.data.code === 'voting_closed') {
      closeCard(card);
      message = 'voting closed — this lifecycle no longer takes votes';
    } else {
      message = (r.data.error || 'error (HTTP ' + r.status + ')') + ' — ' + who;
    }
    card.outcome.textContent = message;
    kit.toast(message);
  }

  return { buildCard, updateCard };
};

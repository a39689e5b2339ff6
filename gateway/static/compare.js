// Prefline rating page: compare lifecycles ("which is better?"). Loaded before app.js, which hands it the
// page's helpers (kit). Vanilla JS, no build step; all untrusted text goes through textContent (kit.h).
//
// A card shows the two candidates side by side in the order the server says this rater sees them
// (lc.pair: the same on every visit), labelled Left and Right, never by model; the question; and one
// button per answer, with keys 1–4 (or the arrows) while focus is in the card, and 0 to withdraw.
// Pressing the standing answer again withdraws it, like a thumb. Narrow screens stack the pair.
'use strict';
window.PreflineCompare = (kit) => {
  const { h } = kit;
  const ANSWERS = [
    { choice: 'left', label: 'Left is better', said: 'left is better', keys: ['1', 'ArrowLeft'], hint: '1 or ←' },
    { choice: 'tie', label: 'Tie', said: 'tie', keys: ['2', 'ArrowDown'], hint: '2 or ↓' },
    { choice: 'right', label: 'Right is better', said: 'right is better', keys: ['3', 'ArrowRight'], hint: '3 or →' },
    { choice: 'both_bad', label: 'Both bad', said: 'both bad', keys: ['4', 'ArrowUp'], hint: '4 or ↑' },
  ];
  const WITHDRAW_KEYS = ['0'];

  // This rater's standing answer per lifecycle, remembered locally (the server keeps the truth).
  const storeKey = () => 'prefline.judgements.' + kit.session().rater;
  function answers() {
    try { return JSON.parse(localStorage.getItem(storeKey()) || '{}'); } catch { return {}; }
  }
  function remember(lcId, choice) {
    const all = answers();
    if (choice) all[lcId] = choice;
    else delete all[lcId];
    localStorage.setItem(storeKey(), JSON.stringify(all));
  }

  function side(lc, c, name) {
    const media = c.kind === 'image'
      ? h('img', { src: c.artifact.url, alt: name + ' candidate for: ' + lc.prompt, decoding: 'async' })
      : h('div', { class: 'text-candidate' }, c.text ?? '(text unavailable)');
    const caption = h('figcaption', null, [h('strong', null, name)]);
    if (c.model) caption.append(h('span', { class: 'model' }, c.model)); // only where models are shown
    if (c.placeholder) caption.append(h('span', { class: 'badge' }, 'demo placeholder — not a model output'));
    return h('figure', { class: 'side', 'data-side': name.toLowerCase(), 'data-candidate-id': c.id }, [media, caption]);
  }

  function buildCard(lc) {
    const titleId = 'lc-' + kit.nextId();
    const hintId = 'keys-' + kit.nextId();
    const byId = new Map(lc.candidates.map((c) => [c.id, c]));
    const pair = lc.pair && byId.get(lc.pair.left) && byId.get(lc.pair.right) ? lc.pair : { left: lc.candidates[0].id, right: lc.candidates[1].id };
    const card = { id: lc.lifecycleId, pair, closedAt: 0, pending: false, buttons: new Map() };
    card.deadline = h('span', { class: 'deadline' });
    card.progress = h('progress', { 'aria-label': 'Answers so far' });
    card.quorumText = h('span', { class: 'quorum-text' });
    card.outcome = h('p', { class: 'outcome', 'data-role': 'outcome', 'aria-live': 'polite', 'aria-atomic': 'true' });
    card.verdict = h('p', { class: 'verdict', 'data-role': 'verdict', 'aria-live': 'polite', hidden: true });
    const offered = ANSWERS.filter((a) => a.choice !== 'both_bad' || lc.allowBothBad !== false);
    for (const a of offered) {
      card.buttons.set(a.choice, h('button', {
        type: 'button', class: 'answer ' + a.choice, 'aria-pressed': 'false', 'aria-keyshortcuts': a.keys.join(' '), 'aria-describedby': hintId,
        onclick: () => answer(card, a.choice),
      }, [h('span', { class: 'word' }, a.label), h('kbd', { 'aria-hidden': 'true' }, a.keys[0])]));
    }
    card.withdraw = h('button', { type: 'button', class: 'withdraw linklike', 'aria-keyshortcuts': WITHDRAW_KEYS.join(' '), disabled: true, onclick: () => answer(card, 'retract') }, 'Withdraw my answer');
    const commentId = 'comment-' + kit.nextId();
    card.comment = h('textarea', { id: commentId, maxlength: 2000, rows: 2 });
    const chips = [];
    if (lc.campaign) chips.push(h('span', { class: 'chip' }, 'campaign: ' + lc.campaign));
    for (const m of lc.models || []) chips.push(h('span', { class: 'chip' }, 'model: ' + m));
    const hint = 'Keys: ' + offered.map((a) => a.hint + ' ' + a.said).join(' · ') + ' · 0 withdraws.';
    card.el = h('article', { class: 'card compare', 'data-lifecycle-id': lc.lifecycleId, 'data-task': 'compare', 'aria-labelledby': titleId }, [
      h('h2', { id: titleId, class: 'prompt' }, lc.prompt),
      h('p', { class: 'meta' }, [card.deadline, ...chips]),
      h('p', { class: 'question' }, lc.question || 'Which is better?'),
      h('div', { class: 'quorum' }, [card.progress, card.quorumText]),
      h('div', { class: 'pair' }, [side(lc, byId.get(pair.left), 'Left'), side(lc, byId.get(pair.right), 'Right')]),
      h('div', { class: 'answers', role: 'group', 'aria-label': 'Your answer: which is better?' }, [...card.buttons.values()]),
      h('p', { id: hintId, class: 'keys-hint' }, hint),
      h('div', { class: 'after-answers' }, [
        card.withdraw,
        h('details', { class: 'comment' }, [
          h('summary', null, 'Add a comment (optional)'),
          h('label', { for: commentId, class: 'vh' }, 'Comment on this comparison, sent with your next answer'),
          card.comment,
        ]),
      ]),
      card.outcome,
      card.verdict,
    ]);
    card.el.addEventListener('keydown', (event) => onKey(card, event));
    return card;
  }

  function onKey(card, event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const tag = event.target && event.target.tagName;
    if (tag === 'TEXTAREA' || tag === 'INPUT' || tag === 'SUMMARY') return; // typing, or opening the comment box
    const choice = WITHDRAW_KEYS.includes(event.key) ? 'retract' : ANSWERS.find((a) => a.keys.includes(event.key))?.choice;
    if (!choice || (choice !== 'retract' && !card.buttons.has(choice))) return;
    event.preventDefault();
    answer(card, choice);
  }

  function updateCard(card, lc) {
    if (!card.closedAt) card.deadline.textContent = kit.closesIn(lc.deadlineAt);
    if (lc.deadlineAt) card.deadline.title = new Date(lc.deadlineAt).toLocaleString();
    const wanted = lc.quorum.kind === 'responses' ? lc.quorum.responses : 0;
    const standing = (lc.judgements && lc.judgements.standing) || 0;
    card.progress.max = Math.max(wanted, 1);
    card.progress.value = Math.min(standing, wanted);
    // Progress only: who is winning stays out of sight while raters answer.
    card.quorumText.textContent = 'Answers: ' + standing + ' of ' + wanted;
    syncPressed(card);
  }

  function syncPressed(card) {
    const mine = answers()[card.id];
    for (const [choice, button] of card.buttons) button.setAttribute('aria-pressed', String(mine === choice));
    card.withdraw.disabled = !mine || Boolean(card.closedAt);
  }

  function closeCard(card) {
    card.closedAt = Date.now();
    card.el.classList.add('closed');
    card.deadline.textContent = 'voting closed';
    for (const button of card.buttons.values()) button.disabled = true;
    card.withdraw.disabled = true;
  }

  async function answer(card, clicked) {
    if (card.pending || card.closedAt || !kit.session()) return;
    const current = answers()[card.id];
    if (clicked === 'retract' && !current) return;
    const choice = clicked === current ? 'retract' : clicked; // pressing your standing answer again withdraws it
    const comment = card.comment.value.trim();
    // One key per answer, reused by every retry, so a retry never counts twice.
    const payload = { left: card.pair.left, right: card.pair.right, choice, idempotencyKey: kit.newKey() };
    if (comment) payload.comment = comment;
    card.pending = true;
    card.el.setAttribute('aria-busy', 'true');
    card.outcome.textContent = 'Sending…';
    const r = await kit.postRetrying('/api/lifecycles/' + encodeURIComponent(card.id) + '/judgements', payload);
    card.pending = false;
    card.el.removeAttribute('aria-busy');
    if (!kit.session()) return;
    const said = choice === 'retract' ? 'your answer is withdrawn' : ANSWERS.find((a) => a.choice === choice).said;
    let message;
    if (!r) {
      message = 'Could not reach the server — your answer (' + said + ') was not confirmed. Try again.';
    } else if (r.status === 200) {
      remember(card.id, choice === 'retract' || r.data.outcome === 'retracted' ? null : choice);
      if (r.data.judgements) card.quorumText.textContent = card.quorumText.textContent.replace(/^Answers: \d+/, 'Answers: ' + r.data.judgements.standing);
      syncPressed(card);
      if (comment) card.comment.value = '';
      message = r.data.outcome + ': ' + said + (comment ? ' (with comment)' : '');
      kit.showVerdict(card, r.data.gold);
    } else if (r.status === 401) {
      return kit.signInAgain(r.data.error || 'your session is no longer valid — sign in again');
    } else if (r.data.code === 'voting_closed') {
      closeCard(card);
      message = 'voting closed — this lifecycle no longer takes answers';
    } else {
      message = (r.data.error || 'error (HTTP ' + r.status + ')') + ' — ' + said;
    }
    card.outcome.textContent = message;
    kit.toast(message);
  }

  return { buildCard, updateCard };
};

// The guided tour (the stops and their words are in web/tour.js): the "Take the tour" entry under the
// lede, the card (a non-modal dialog: the stop's title, a few sentences, the callout's sentence, "Try it:"
// with its answer behind a disclosure, Previous / Next, a dot per stop, a link to the stop, and Skip), and
// the callout: a marker over the cell the stop is about, with its value as the page draws it.
//
// Walking: Next / Previous, the dots, n / p or PageDown / PageUp (never while a text field, a menu or a
// slider has the focus; those keys are theirs), Esc closes. Each stop is applied with
// store.actions.applyState (the built-in model first: the tour always shows the model it was written
// for) and its number goes into the address (state.tourStop, web/url_state.js), so a stop is a link:
// `#tour=3` alone applies stop 3; an address with more in it restores that state with the card open.
// Progress (the last stop seen, whether the tour was finished) is kept in localStorage, wrapped in try:
// a browser that refuses storage (some file:// settings, private modes) gets a tour that does not resume.
//
// The marker is drawn only while the page shows the stop's state (the learner's experiments move it
// away: then "Show this stop again" brings it back). Positions are read from the layout in an animation
// frame after the render, never during it.
import { el, hideTooltip } from '../tooltip.js';
import { heatmapOn } from '../heatmap.js';
import { readable } from '../choices.js';
import { STOPS, TOUR_NEEDS, TOUR_WORDS, resolveCallout, stopFacts, stopState } from '../tour.js';
import { messageOf } from '../actions.js';
import { Memo, setProperty, setText } from './util.js';

const STORAGE_KEY = 'stepwise.tour';
const N = STOPS.length;
const f2 = (x) => (x === -Infinity ? '−∞' : Number(x).toFixed(2));

function readProgress() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null');
    if (saved && Number.isInteger(saved.stop) && saved.stop >= 1 && saved.stop <= N) return { stop: saved.stop, finished: Boolean(saved.finished) };
  } catch {
    // no storage here (or something else wrote the key): no progress
  }
  return null;
}

function writeProgress(progress) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(progress));
  } catch {
    // storage refused: the tour still works, it just does not resume
  }
}

// Keys that belong to the control with the focus: text, menus and sliders (PageUp/PageDown move a slider).
const ownsKeys = (node) => Boolean(node?.closest?.('input, select, textarea, [contenteditable=""], [contenteditable="true"]'));

/** A short link: the address holds the stop and nothing else (`#tour=3`). Its stop number, else null. */
function shortLinkStop() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const keys = [...params.keys()];
  if (keys.length !== 1 || keys[0] !== 'tour') return null;
  const n = Number(params.get('tour'));
  return Number.isInteger(n) && n >= 1 && n <= N ? n : null;
}

/** The built-in model, if the tour can use it: { entry } or { reason } (why the tour is not offered). */
function tourModel(state) {
  const entry = state.models.find((m) => m.builtin);
  if (!entry) return { reason: 'The tour needs the page\'s built-in model, and this page was built without one.' };
  const m = entry.model;
  const c = m.config;
  if (!m.encoderDecoder) return { reason: `The tour is written for an encoder–decoder model; this page's built-in model, ${entry.name}, is decoder-only.` };
  if (c.n_decoder_layers < TOUR_NEEDS.decoderLayers || c.n_heads < TOUR_NEEDS.heads) {
    return { reason: `The tour needs at least ${TOUR_NEEDS.decoderLayers} decoder layers of ${TOUR_NEEDS.heads} heads; ${entry.name} has ${c.n_decoder_layers} of ${c.n_heads}.` };
  }
  const unread = TOUR_WORDS.filter((w) => !readable(m, w));
  if (unread.length) return { reason: `The tour reads English words; ${entry.name} cannot read ${unread.join(', ')}.` };
  return { entry };
}

export function create(root, store) {
  const state = store.state;
  let progress = readProgress();  // { stop, finished } or null, as kept in the browser
  const loadProgress = () => progress;
  const saveProgress = (p) => {
    progress = p;
    writeProgress(p);
  };

  // ---------------------------------------------------------------- the entry, under the lede
  const start = el('button', { type: 'button', class: 'button', id: 'tour-start' }, 'Take the tour');
  const resume = el('button', { type: 'button', class: 'button button-quiet', id: 'tour-resume', hidden: true });
  const entryNote = el('span', { class: 'tour-entry-note', id: 'tour-entry-note' });
  const entryKeys = el('span', { class: 'keys tour-entry-note' }, 'keys', el('kbd', {}, 'n'), el('kbd', {}, 'p'));
  root.replaceChildren(start, resume, entryNote, entryKeys);
  root.hidden = true;
  start.addEventListener('click', () => go(1));
  resume.addEventListener('click', () => go(loadProgress()?.stop ?? 1));

  // ---------------------------------------------------------------- the card
  const card = el('div', { class: 'tour-card', id: 'tour-card', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'tour-title', hidden: true });
  const count = el('span', { class: 'tour-count', id: 'tour-count' });
  const fold = el('button', { type: 'button', class: 'button button-quiet button-small tour-fold', id: 'tour-fold', 'aria-expanded': 'true', 'aria-controls': 'tour-card', title: 'Fold the card to its title and buttons, to see more of the page' }, 'Fold');
  const skip = el('button', { type: 'button', class: 'button button-quiet button-small tour-skip', id: 'tour-skip', title: 'Close the tour (Esc); it resumes where you left it' }, 'Skip tour ×');
  const title = el('h2', { id: 'tour-title', tabindex: '-1' });
  const body = el('div', { class: 'tour-body', id: 'tour-body' });
  const callout = el('p', { class: 'tour-callout', id: 'tour-callout' });
  const note = el('p', { class: 'tour-note', id: 'tour-note', hidden: true });
  const question = el('p', { class: 'tour-question', id: 'tour-question' });
  const answerText = el('p', { id: 'tour-answer-text' });
  const answer = el('details', { class: 'tour-answer', id: 'tour-answer' }, el('summary', {}, 'Show the answer'), answerText);
  const prev = el('button', { type: 'button', class: 'button', id: 'tour-prev', title: 'Previous stop (p or PageUp)', 'aria-label': 'Previous stop' },
    el('span', { 'aria-hidden': 'true' }, '←'), el('span', { class: 'tour-word', 'aria-hidden': 'true' }, ' Previous'));
  const next = el('button', { type: 'button', class: 'button button-primary', id: 'tour-next', title: 'Next stop (n or PageDown)' });
  const dots = STOPS.map((stop, k) => {
    const dot = el('button', { type: 'button', class: 'tour-dot', 'data-stop': String(k + 1), 'aria-label': `Stop ${k + 1}: ${stop.title}`, title: `${k + 1}. ${stop.title}` });
    dot.addEventListener('click', () => go(k + 1));
    return dot;
  });
  const link = el('a', { class: 'tour-link', id: 'tour-link', title: 'A link that opens this stop' }, 'Link to this stop');
  const again = el('button', { type: 'button', class: 'button button-quiet button-small', id: 'tour-again', title: 'Put the page back as this stop shows it' }, 'Show this stop again');
  const keys = el('span', { class: 'keys tour-keys' }, el('kbd', {}, 'n'), el('kbd', {}, 'p'), ' next / previous ', el('kbd', {}, 'Esc'), ' close');
  card.append(
    el('div', { class: 'tour-top' }, count, el('span', { class: 'tour-top-buttons' }, fold, skip)),
    title, body, callout, note, question, answer,
    el('div', { class: 'tour-nav' }, prev, el('div', { class: 'tour-dots', role: 'group', 'aria-label': 'Stops' }, ...dots), next),
    el('div', { class: 'tour-foot' }, link, again, keys),
  );
  document.body.append(card);
  skip.addEventListener('click', () => close());
  fold.addEventListener('click', () => {
    const folded = !card.classList.contains('folded');
    card.classList.toggle('folded', folded);
    fold.setAttribute('aria-expanded', String(!folded));
    setText(fold, folded ? 'Unfold' : 'Fold');
    place();
  });
  prev.addEventListener('click', () => shown > 1 && go(shown - 1));
  next.addEventListener('click', () => (shown < N ? go(shown + 1) : finish()));
  again.addEventListener('click', () => go(shown));

  // ---------------------------------------------------------------- the marker
  const markerLabel = el('span', { class: 'tour-marker-label' });
  const marker = el('div', { class: 'tour-marker', id: 'tour-marker', 'aria-hidden': 'true', hidden: true }, markerLabel);
  document.body.append(marker);

  let shown = null;       // the stop the card shows (from 1), or null
  let applied = null;     // { stop, want, callout, facts }: what the card was drawn from
  let notice = '';        // a line for the card (the model switched, part of the stop not shown)
  // Scrolls left to bring a new stop's target into view: more than one when the layout moves under the
  // first (Open the box's cards are laid out only once near the viewport: content-visibility in style.css).
  let scrollPending = 0;
  let goTimer = 0;
  const facts = new Map();  // `${model name}:${stop}` -> { facts } | { error }
  const cardMemo = new Memo();

  function factsFor(n, entry) {
    const key = `${entry.name}:${n}`;
    if (!facts.has(key)) {
      try {
        facts.set(key, { facts: stopFacts(n - 1, entry.model, state.words) });
      } catch (error) {
        facts.set(key, { error: messageOf(error) });
      }
    }
    return facts.get(key);
  }

  /** Shows stop n: the built-in model, the stop's state, the card; the focus on its heading. */
  function go(n) {
    clearTimeout(goTimer);
    // (a stop may feed a word's dictionary pronunciation: before the held-out words arrive it waits for them)
    if (!state.wordsLoaded) return store.actions.whenWordsLoaded(() => go(n), 'tour');
    const { entry, reason } = tourModel(state);
    shown = n;
    if (!entry) {
      notice = reason;
      store.actions.setTourStop(n);
      title.focus({ preventScroll: true });
      return;
    }
    saveProgress({ stop: n, finished: false });
    const before = state.models.find((m) => m.id === state.modelId);
    const want = { ...stopState(n - 1, entry.model, state.words), model: entry.name, tourStop: n };
    notice = before && before !== entry ? `The tour switched to the built-in model, ${entry.name}: it was written for it. ${before.name} is still in the model menu.` : '';
    cardMemo.reset();
    const problems = store.actions.applyState(want, { heading: `The tour could not show stop ${n} in full` });
    if (problems.length) {
      notice = `${notice} Part of this stop could not be shown: the message above says what.`.trim();
      cardMemo.reset();
      store.render();
    }
    title.focus({ preventScroll: true });
    scrollPending = 4;
    place();
  }

  function close() {
    if (shown === null) return;
    saveProgress({ stop: shown, finished: false });
    const inCard = card.contains(document.activeElement);
    store.actions.setTourStop(null);
    if (inCard) start.focus({ preventScroll: true });
  }

  function finish() {
    saveProgress({ stop: N, finished: true });
    const inCard = card.contains(document.activeElement);
    store.actions.setTourStop(null);
    if (inCard) start.focus({ preventScroll: true });
  }

  // The keys: while the tour is open, n / p and PageDown / PageUp walk it and Esc closes it. In the capture
  // phase, so that the page's own Esc (reset) does not also run.
  document.addEventListener('keydown', (e) => {
    if (shown === null || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || ownsKeys(e.target)) return;
    const key = e.key;
    if (key === 'Escape') {
      e.preventDefault();
      hideTooltip();
      close();
    } else if (key === 'n' || key === 'N' || key === 'PageDown') {
      e.preventDefault();
      if (shown < N) go(shown + 1);
    } else if (key === 'p' || key === 'P' || key === 'PageUp') {
      e.preventDefault();
      if (shown > 1) go(shown - 1);
    }
  }, true);

  // A short link typed or followed on the page (the card's own "Link to this stop" too): apply that stop,
  // after web/url_state.js has read the address.
  const followShortLink = () => {
    const n = shortLinkStop();
    if (n === null) return;
    clearTimeout(goTimer);
    goTimer = setTimeout(() => go(n), 0);
  };
  window.addEventListener('hashchange', followShortLink);

  // ---------------------------------------------------------------- drawing

  function drawCard(n) {
    const stop = STOPS[n - 1];
    const { entry, reason } = tourModel(state);
    setText(count, `Stop ${n} of ${N}`);
    setText(title, stop.title);
    link.setAttribute('href', `#tour=${n}`);
    setProperty(prev, 'disabled', n === 1);
    if (n === N) setText(next, 'Finish');
    else next.replaceChildren('Next', el('span', { 'aria-hidden': 'true' }, ' →'));
    for (const dot of dots) dot.setAttribute('aria-current', String(Number(dot.dataset.stop) === n));
    answer.open = false;
    card.scrollTop = 0;
    applied = null;
    if (!entry) {
      body.replaceChildren(el('p', {}, reason));
      for (const node of [callout, question, answer, again]) node.hidden = true;
      setText(note, '');
      note.hidden = true;
      return;
    }
    const got = factsFor(n, entry);
    for (const node of [callout, question, answer, again]) node.hidden = Boolean(got.error);
    note.hidden = !notice && !got.error;
    setText(note, got.error ? `The numbers of this stop could not be computed: ${got.error}` : notice);
    if (got.error) {
      body.replaceChildren();
      return;
    }
    const f = got.facts;
    body.replaceChildren(...stop.text(f).map((text) => el('p', {}, text)));
    setText(callout, stop.calloutText(f));
    question.replaceChildren(el('strong', {}, 'Try it: '), stop.question(f));
    setText(answerText, stop.answer(f));
    const want = stopState(n - 1, entry.model, state.words);
    applied = { stop: n, entry, want, callout: resolveCallout(stop, f), facts: f };
  }

  // Does the page still show what the stop applied (the marker's cell means what the card says)?
  function showsStop() {
    if (!applied) return false;
    const { entry, want, callout: c } = applied;
    const t = store.trace;
    const s = state.session;
    if (state.model !== entry.model || state.word !== want.word || !t || t.mode !== want.mode) return false;
    if (want.mode === 'steps') {
      if (t.strategy !== want.strategy) return false;
      if (want.strategy === 'beam' && s.settings.beamWidth !== want.beamWidth) return false;
      if (want.step === 'end' ? !t.done : s.steps !== want.step) return false;
    } else if (t.causal !== want.causal || t.teacher?.target !== want.target) return false;
    if (c.kind === 'cell') {
      if (state.view !== c.view) return false;
      if (c.view === 'mask') return state.maskOrder === want.maskOrder;
      const here = state.selection[c.view];
      return here?.layer === c.layer && here?.head === c.head;
    }
    if (c.kind === 'inside') return ['layer', 'head', 'kind'].every((k) => state.inside[k] === want.inside[k]) && store.currentRow() === 0;
    if (c.kind === 'bar') return store.currentRow() === c.row;
    return true;
  }

  // The element (or canvas cell) the callout points at, its rectangle in the viewport and its value.
  function target() {
    const c = applied.callout;
    if (c.kind === 'cell') {
      const canvas = document.getElementById('main-map');
      const map = heatmapOn(canvas);
      const cell = map?.cellRect(c.row, c.col);
      if (!cell || canvas.hidden) return null;
      const r = canvas.getBoundingClientRect();
      return { rect: { left: r.left + cell.x, top: r.top + cell.y, width: cell.width, height: cell.height }, value: map.spec.rows[c.row][c.col], label: f2(map.spec.rows[c.row][c.col]) };
    }
    let node = null;
    let value = null;
    let label = '';
    if (c.kind === 'box') {
      node = document.querySelector(`#diagram [data-part="${c.part}"]`);
      value = c.value;
      label = c.label ?? f2(value);
    } else if (c.kind === 'inside') {
      node = document.querySelector(`#inside-head section[data-stage="${c.stage}"] .numbers .num-col:nth-child(${c.col + 1}) .num`);
      value = node ? Number(node.dataset.value) : null;
      label = value === null ? '' : f2(value);
    } else if (c.kind === 'bar') {
      node = [...document.querySelectorAll('#distribution .bar-row')].find((row) => row.dataset.token === c.token) ?? null;
      value = node ? Number(node.dataset.p) : null;
      label = value === null ? '' : f2(value);
    } else if (c.kind === 'beam') {
      node = document.querySelectorAll('#beams table')[1]?.querySelectorAll('tbody tr')[c.index] ?? null;
      value = c.value;
      label = c.label ?? value.toFixed(3);
    }
    if (!node || !node.checkVisibility?.()) return null;
    const r = node.getBoundingClientRect();
    return { rect: { left: r.left, top: r.top, width: r.width, height: r.height }, value, label };
  }

  // On a phone the step controls are fixed at the bottom of the screen while stepping (style.css): the
  // card, a sheet at the bottom too, stands on them rather than over them, so that Step, Back and the
  // scrubber stay in reach for the stops' experiments.
  function dockAboveControls() {
    const transport = document.querySelector('.transport');
    const fixed = transport && !card.hidden && getComputedStyle(transport).position === 'fixed';
    const height = fixed ? Math.ceil(transport.getBoundingClientRect().height) : 0;
    setProperty(card.style, 'bottom', fixed ? `${height}px` : '');
    setProperty(card.style, 'maxHeight', fixed ? `min(40vh, calc(100vh - ${height + 160}px))` : '');
  }

  // After the layout: the marker over its target (or hidden), the card on the side away from it, and on a
  // new stop the page scrolled so that the target shows beside (desktop) or above (phone) the card.
  let frame = 0;
  function place() {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      dockAboveControls();
      const found = shown !== null && showsStop() ? target() : null;
      if (!found) {
        marker.hidden = true;
        scrollPending = 0;
        return;
      }
      const phone = window.innerWidth < 720;
      if (scrollPending > 0) {
        const { rect } = found;
        const free = phone ? card.getBoundingClientRect().top : window.innerHeight;
        const wanted = phone ? Math.max(12, (free - rect.height) / 3) : Math.max(12, (free - rect.height) * 0.4);
        // until the target stays where it was scrolled to (or the tries run out)
        scrollPending = Math.abs(rect.top - wanted) > 4 ? scrollPending - 1 : 0;
        if (scrollPending > 0) {
          window.scrollBy({ top: rect.top - wanted, behavior: 'instant' });
          place();
          return;
        }
      }
      const { rect, value, label } = found;
      const pad = 3;
      Object.assign(marker.style, {
        left: `${Math.round(rect.left + window.scrollX - pad)}px`,
        top: `${Math.round(rect.top + window.scrollY - pad)}px`,
        width: `${Math.round(rect.width + 2 * pad)}px`,
        height: `${Math.round(rect.height + 2 * pad)}px`,
      });
      const c = applied.callout;
      for (const key of Object.keys(marker.dataset)) delete marker.dataset[key];
      Object.assign(marker.dataset, {
        stop: String(applied.stop), kind: c.kind, value: String(value),
        ...(c.kind === 'cell' ? { view: c.view, layer: String(c.layer ?? ''), head: String(c.head ?? ''), row: String(c.row), col: String(c.col) } : {}),
        ...(c.kind === 'inside' ? { col: String(c.col) } : {}),
        ...(c.kind === 'bar' ? { row: String(c.row), token: c.token } : {}),
      });
      markerLabel.textContent = label;
      marker.classList.toggle('wide', rect.width > 120);  // a row: the label at its right end, clear of its text
      marker.hidden = false;
      card.dataset.side = STOPS[applied.stop - 1].dock ?? (rect.left + rect.width / 2 > window.innerWidth / 2 ? 'left' : 'right');
    });
  }
  window.addEventListener('resize', () => shown !== null && place());
  document.addEventListener('scroll', () => shown !== null && place(), { capture: true, passive: true });

  return {
    update() {
      if (!state.model) return;
      const { entry, reason } = tourModel(state);
      root.hidden = false;
      setProperty(start, 'disabled', !entry);
      setText(start, progress?.finished ? 'Take the tour again' : 'Take the tour');
      const resumable = Boolean(entry && progress && !progress.finished && progress.stop > 1 && state.tourStop === null);
      setProperty(resume, 'hidden', !resumable);
      if (resumable) setText(resume, `Resume at stop ${progress.stop}: ${STOPS[progress.stop - 1].title}`);
      setText(entryNote, entry ? `${N} stops, one idea of the lesson each.` : reason);
      setProperty(entryKeys, 'hidden', !entry);

      const stop = state.tourStop;
      if (stop !== shown) {
        if (stop === null) {
          shown = null;
          applied = null;
          card.hidden = true;
          marker.hidden = true;
          return;
        }
        // a link: with nothing else in it, the stop's own state; else the state the link holds
        shown = stop;
        if (entry) saveProgress({ stop, finished: false });
        if (shortLinkStop() === stop) followShortLink();
      }
      if (shown === null) return;
      if (cardMemo.changed(shown, entry, notice)) drawCard(shown);
      card.hidden = false;
      place();
    },
  };
}

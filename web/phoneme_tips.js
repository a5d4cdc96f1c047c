// Phonemes that explain themselves: any element marked data-phoneme="AY1" (the output tokens, the
// dictionary's pronunciation, the beams' phonemes) shows what the phoneme sounds like (web/phonemes.js)
// in the page's one tooltip, on hover, on keyboard focus and on a tap (a tap elsewhere hides it: web/app.js).
// Panels mark their tokens with phonemeAttributes(); tooltips of their own add phonemeLines().
import { el, hideTooltip, showTooltip } from './tooltip.js';
import { explainerFor } from './phonemes.js';

/** The tooltip lines of an explanation (web/phonemes.js), or [] for null. */
export function phonemeLines(explanation) {
  if (!explanation) return [];
  if (explanation.kind === 'special') return [[el('span', { class: 'dim' }, explanation.text)]];
  const { token, kind, example, note, stress, stressText } = explanation;
  return [
    [el('strong', { class: 'mono' }, token), el('span', { class: 'dim' }, ` ${kind}, as in `), example.before, el('b', { class: 'sound' }, example.sound), example.after],
    [el('span', { class: 'dim' }, note)],
    stress === null ? null : [el('span', { class: 'dim' }, `stress ${stress}: `), stressText],
  ].filter(Boolean);
}

/**
 * The attributes that make an element explain `token` ({} when the model does not know it): data-phoneme
 * and an aria-description (the explanation as one sentence; `note`, if given, first).
 */
export function phonemeAttributes(model, token, note = '') {
  const explanation = explainerFor(model)(token);
  if (!explanation) return {};
  return { 'data-phoneme': token, 'data-tip-note': note || null, 'aria-description': note ? `${note}. ${explanation.text}` : explanation.text };
}

let installed = false;

/** Listens, once for the page, for pointers and focus on [data-phoneme] elements. */
export function installPhonemeTips(store) {
  if (installed) return;
  installed = true;
  const target = (event) => event.target?.closest?.('[data-phoneme]') ?? null;
  const show = (node, x, y) => {
    const explanation = explainerFor(store.state.model)(node.dataset.phoneme);
    if (!explanation) return;
    const note = node.dataset.tipNote;
    showTooltip([...(note ? [[el('span', { class: 'dim' }, note)]] : []), ...phonemeLines(explanation)], x, y);
  };
  const near = (node) => {
    const r = node.getBoundingClientRect();
    return [r.left, r.bottom - 12];
  };
  document.addEventListener('mouseover', (e) => {
    const node = target(e);
    if (node) show(node, e.clientX, e.clientY);
  });
  document.addEventListener('mouseout', (e) => {
    const node = target(e);
    if (node && !node.contains(e.relatedTarget)) hideTooltip();
  });
  document.addEventListener('click', (e) => {  // a tap on a touch screen
    const node = target(e);
    if (node) show(node, e.clientX || near(node)[0], e.clientY || near(node)[1]);
  });
  document.addEventListener('focusin', (e) => {
    const node = target(e);
    if (node) show(node, ...near(node));
  });
  document.addEventListener('focusout', (e) => {
    if (target(e)) hideTooltip();
  });
}

// Small helpers the panels share: remembering what was drawn, writing to the DOM only when a value
// changes, formatting numbers and text, and the tooltip of an attention weight.
import { el } from '../tooltip.js';

/**
 * What a panel last drew with. `if (!memo.changed(trace, steps, row)) return;` skips a redraw when every
 * value is the same (Object.is) as last time.
 */
export class Memo {
  #last = null;

  changed(...values) {
    const last = this.#last;
    if (last && last.length === values.length && values.every((v, i) => Object.is(v, last[i]))) return false;
    this.#last = values;
    return true;
  }

  /** Forgets, so that the next changed() is true. */
  reset() {
    this.#last = null;
  }
}

/** node.textContent = text, unless it already reads so. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** node[property] = value (hidden, disabled, value, className...), unless it already is. */
export function setProperty(node, property, value) {
  if (node[property] !== value) node[property] = value;
}

/** node.setAttribute(name, value), unless it already is. */
export function setAttribute(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

/** A weight or a logit: six significant digits, small ones in exponent form. */
export const fmt = (x) => (x === 0 ? '0' : Math.abs(x) >= 0.001 ? x.toPrecision(6) : x.toExponential(3));

export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const milliseconds = (ms) => (ms >= 0.1 ? `${ms.toFixed(2)} ms` : '< 0.1 ms');

export function shorten(text, max) {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The tooltip lines of a cell of an attention matrix: its query, its key, its weight. */
export function weightTooltip(cell, spec, queryKind, keyKind) {
  const { i, j } = cell;
  return [
    [el('span', { class: 'dim' }, 'query '), el('strong', { class: 'mono' }, spec.rowLabels[i]), el('span', { class: 'dim' }, ` (${queryKind} ${i})`)],
    [el('span', { class: 'dim' }, 'key '), el('strong', { class: 'mono' }, spec.colLabels[j]), el('span', { class: 'dim' }, ` (${keyKind} ${j})`)],
    cell.masked ? ['weight ', el('strong', {}, '0'), el('span', { class: 'dim' }, spec.stepped ? ' (not there yet when this row was computed; a parallel pass masks it: score −∞)' : ' (masked: score −∞)')]
      : ['weight ', el('strong', {}, fmt(cell.value))],
  ];
}

// The window's width, kept from the last resize: reading window.innerWidth in the middle of a render,
// after DOM writes, can make the browser lay the page out there and then.
let windowWidth = typeof window === 'undefined' ? 0 : window.innerWidth;
if (typeof window !== 'undefined') window.addEventListener('resize', () => { windowWidth = window.innerWidth; });

/** window.innerWidth as of the last resize (read without a layout). */
export const viewportWidth = () => windowWidth;

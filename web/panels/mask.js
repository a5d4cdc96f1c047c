// The causal mask tab: the matrix the decoder adds to its self-attention scores, 0 where a position may
// look and −∞ where it would see the future (or all 0 with the mask switched off in teacher forcing).
// A view for the enlarged matrix (panels/matrix.js); the PyTorch lines beside it are panels/formula.js.
import { el } from '../tooltip.js';

export const id = 'mask';
export const rowsAreDecoderPositions = true;  // outline the row shown, mark the latest
export const rowsClickable = false;

/** The view has no layers or heads: the same mask is added in every one. */
export const layers = () => 0;

export function matrix(trace) {
  const n = trace.queries.length;
  const causal = trace.causal;
  return {
    kind: 'mask',
    rows: Array.from({ length: n }, (_, i) => Float32Array.from({ length: n }, (_, j) => (causal && j > i ? -Infinity : 0))),
    nCols: n,
    rowLabels: trace.queries,
    colLabels: trace.queries,
    rowNotes: null,
    masked: (i, j) => causal && j > i,
    rowAxis: 'query',
    colAxis: 'key →',
  };
}

export function tooltip(cell, spec) {
  const { i, j } = cell;
  return [
    [el('span', { class: 'dim' }, 'query '), el('strong', { class: 'mono' }, spec.rowLabels[i]), el('span', { class: 'dim' }, ` (position ${i})`)],
    [el('span', { class: 'dim' }, 'key '), el('strong', { class: 'mono' }, spec.colLabels[j]), el('span', { class: 'dim' }, ` (position ${j})`)],
    cell.masked ? 'M = −∞: the future, hidden' : 'M = 0: allowed',
  ];
}

/** The legend under the matrix: no colour scale, the two values the mask holds. */
export const legend = () => ({ scale: false, caption: 'the mask adds', masked: '−∞: may not look there', showMasked: true });

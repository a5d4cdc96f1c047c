// The causal mask tab: the matrix the decoder adds to its self-attention scores, 0 where a position may
// look and −∞ where it would see the future (or all 0 with the mask switched off in teacher forcing).
// Drawn either as PyTorch adds it, [query, key], or transposed, [key, query], as the course's expression
// `torch.triu(torch.ones(n, n)) == 0` reads (selection.maskOrder). A view for the enlarged matrix
// (panels/matrix.js); the PyTorch lines beside it are panels/formula.js, the tensors panels/mask_tensors.js.
import { el } from '../tooltip.js';
import { MASK_ORDERS } from '../views.js';

export const id = 'mask';
export const rowsAreDecoderPositions = true;  // outline the row shown, mark the latest (rows as queries)
export const rowsClickable = false;

/** The view has no layers or heads: the same mask is added in every one. */
export const layers = () => 0;

/** M[q][k] as the decoder adds it: −∞ where key k comes after query q (with the mask on). */
export const maskValue = (causal, q, k) => (causal && k > q ? -Infinity : 0);

export function matrix(trace, { maskOrder = 'query-key' } = {}) {
  const n = trace.queries.length;
  const causal = trace.causal;
  const keysAsRows = maskOrder === 'key-query';
  // Row i, column j of the drawing: M[i][j] in [query, key] order, M[j][i] in [key, query] order.
  const at = (i, j) => (keysAsRows ? maskValue(causal, j, i) : maskValue(causal, i, j));
  const order = MASK_ORDERS[keysAsRows ? 'key-query' : 'query-key'];
  return {
    kind: 'mask',
    rows: Array.from({ length: n }, (_, i) => Float32Array.from({ length: n }, (_, j) => at(i, j))),
    nCols: n,
    rowLabels: trace.queries,
    colLabels: trace.queries,
    rowNotes: null,
    masked: (i, j) => at(i, j) === -Infinity,
    rowAxis: order.rowAxis,
    colAxis: order.colAxis,
    keysAsRows,
  };
}

export function tooltip(cell, spec) {
  const { i, j } = cell;
  const [q, k] = spec.keysAsRows ? [j, i] : [i, j];
  return [
    [el('span', { class: 'dim' }, 'query '), el('strong', { class: 'mono' }, spec.rowLabels[q]), el('span', { class: 'dim' }, ` (position ${q})`)],
    [el('span', { class: 'dim' }, 'key '), el('strong', { class: 'mono' }, spec.colLabels[k]), el('span', { class: 'dim' }, ` (position ${k})`)],
    cell.masked ? 'M = −∞: the future, hidden' : 'M = 0: allowed',
  ];
}

/** The legend under the matrix: no colour scale, the values the mask holds (no −∞ with the mask off). */
export const legend = (trace) => (trace && !trace.causal
  ? { scale: false, caption: 'the mask is switched off: it adds 0 to every score', masked: '−∞: may not look there', showMasked: false }
  : { scale: false, caption: 'the mask adds 0 where a query may look', masked: '−∞: may not look there', showMasked: true });

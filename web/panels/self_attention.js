// The masked self-attention tab: row i is decoder position i (the query) weighing the positions it may see
// (the keys), for one head of one decoder layer or the mean of its heads. A view for the enlarged matrix
// (panels/matrix.js) and the thumbnails (panels/heads.js).
import { rowsOf } from '../attention.js';
import { weightTooltip } from './util.js';

export const id = 'self';
export const rowsAreDecoderPositions = true;
export const rowsClickable = true;

export const layers = (config) => config.n_decoder_layers;

export function matrix(trace, { layer, head }) {
  const n = trace.queries.length;
  const causal = trace.causal;
  return {
    kind: 'weights',
    rows: n ? rowsOf(trace.self, layer, head, n) : [],
    nCols: n,
    rowLabels: trace.queries,
    colLabels: trace.queries,
    rowNotes: trace.produced.map((p) => `→ ${p}`),
    masked: (i, j) => causal && j > i,
    stepped: trace.mode === 'steps',  // (stepping, a row never scores the positions after it: they are not there yet)
    rowAxis: 'query',
    colAxis: 'key →',
  };
}

export const tooltip = (cell, spec) => weightTooltip(cell, spec, 'position', 'position');

/** The colour scale, and the hatching of masked cells when the mask is on. */
export const legend = (trace) => ({
  scale: true, caption: 'attention weight', showMasked: Boolean(trace?.causal),
  masked: trace?.mode === 'steps' ? 'not there yet when the row was computed (a parallel pass masks it: −∞)' : 'masked (−∞ before the softmax)',
});

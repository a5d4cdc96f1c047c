// The cross-attention tab: each decoder position (a row) looking at the encoder's reading of the word's
// letters (the columns), for one head of one decoder layer or the mean of its heads. A view for the
// enlarged matrix (panels/matrix.js) and the thumbnails (panels/heads.js); the letters above
// (panels/letters.js) are shaded by the same rows.
import { rowsOf } from '../attention.js';
import { weightTooltip } from './util.js';

export const id = 'cross';
export const rowsAreDecoderPositions = true;
export const rowsClickable = true;

export const layers = (config) => config.n_decoder_layers;

export function matrix(trace, { layer, head }) {
  const n = trace.queries.length;
  const S = trace.input.length;
  return {
    kind: 'weights',
    rows: n ? rowsOf(trace.cross, layer, head, S) : [],
    nCols: S,
    rowLabels: trace.queries,
    colLabels: trace.input,
    rowNotes: trace.produced.map((p) => `→ ${p}`),
    masked: () => false,
    rowAxis: 'query',
    colAxis: 'letter →',
  };
}

export const tooltip = (cell, spec) => weightTooltip(cell, spec, 'position', 'letter');

export const legend = () => ({ scale: true, caption: 'attention weight', masked: 'masked (−∞ before the softmax)', showMasked: false });

// The encoder self-attention tab: every letter of the word attending to every other one, with no mask,
// for one head of one encoder layer or the mean of its heads. A view for the enlarged matrix
// (panels/matrix.js) and the thumbnails (panels/heads.js).
import { rowsOf } from '../attention.js';
import { weightTooltip } from './util.js';

export const id = 'encoder';
export const rowsAreDecoderPositions = false;  // rows are letters: no row outlined, none to click
export const rowsClickable = false;

export const layers = (config) => config.n_encoder_layers;

export function matrix(trace, { layer, head }) {
  const S = trace.input.length;
  return {
    kind: 'weights',
    rows: rowsOf(trace.encoder, layer, head, S),
    nCols: S,
    rowLabels: trace.input,
    colLabels: trace.input,
    rowNotes: null,
    masked: () => false,
    rowAxis: 'letter',
    colAxis: 'letter →',
  };
}

export const tooltip = (cell, spec) => weightTooltip(cell, spec, 'letter', 'letter');

export const legend = () => ({ scale: true, caption: 'attention weight', masked: 'masked (−∞ before the softmax)', showMasked: false });

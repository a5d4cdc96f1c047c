// The word's letters, each shaded by how much the decoder row shown attends to it (cross-attention, at
// the layer and head chosen on the cross-attention tab): where spelling meets sound.
import { el } from '../tooltip.js';
import { rowOf } from '../attention.js';
import { viridisCss, inkOn } from '../colormap.js';
import { headName } from '../views.js';
import { Memo, fmt, setText } from './util.js';

export function create(root, store) {
  const letters = root.querySelector('#letters');
  const caption = root.querySelector('#letters-caption');
  const memo = new Memo();
  return {
    update(trace, selection) {
      const { model, started } = store.state;
      if (!started) return;  // until a word is decoded the card keeps the page's HTML
      const row = selection.row;
      const sel = selection.byView.cross ?? { layer: 0, head: 'mean' };
      if (!memo.changed(trace, trace?.stepMs.length, row, sel.layer, sel.head, model)) return;
      // New tiles each time (a handful of letters): the colour changes at once, with no transition.
      const weights = trace && row >= 0 ? rowOf(trace.cross, sel.layer, sel.head, trace.input.length, row) : null;
      letters.replaceChildren(...(trace ? trace.input : []).map((letter, j) => {
        const tile = el('span', { class: 'letter' }, letter);
        if (weights) {
          tile.style.backgroundColor = viridisCss(weights[j]);
          tile.style.color = inkOn(weights[j]);
          tile.title = `${letter}: ${fmt(weights[j])}`;
        }
        return tile;
      }));
      if (!trace) letters.append(el('span', { class: 'token-placeholder' }, model ? 'Type a word above.' : 'Loading the model…'));
      setText(caption, weights
        ? `shaded by cross-attention for ${trace.produced[row]} (layer ${sel.layer + 1}, ${headName(sel.head, model.config.n_heads)})`
        : '');
    },
  };
}

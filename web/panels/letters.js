// The word's letters, each shaded by how much the decoder row shown attends to it (cross-attention, at
// the layer and head chosen on the cross-attention tab): where spelling meets sound. A decoder-only model
// has no encoder: its input is the prompt, positions 1… of the one sequence it reads (not shaded).
import { el } from '../tooltip.js';
import { rowOf } from '../attention.js';
import { viridisCss, inkOn } from '../colormap.js';
import { headName } from '../views.js';
import { NO_ENCODER_NOTE } from '../inside_texts.js';
import { Memo, fmt, setText } from './util.js';

export function create(root, store) {
  const letters = root.querySelector('#letters');
  const caption = root.querySelector('#letters-caption');
  const label = caption.parentElement.firstChild;  // the card's label text: "Your word" 
  const memo = new Memo();
  return {
    update(trace, selection) {
      const { model, started } = store.state;
      if (!started) return;  // until a word is decoded the card keeps the page's HTML
      const row = selection.row;
      const sel = selection.byView.cross ?? { layer: 0, head: 'mean' };
      if (!memo.changed(trace, trace?.stepMs.length, row, sel.layer, sel.head, model)) return;
      // New tiles each time (a handful of letters): the colour changes at once, with no transition.
      const decoderOnly = Boolean(model && !model.encoderDecoder);
      label.textContent = decoderOnly ? 'The prompt ' : 'Your word ';
      const weights = trace && row >= 0 && !decoderOnly ? rowOf(trace.cross, sel.layer, sel.head, trace.input.length, row) : null;
      letters.replaceChildren(...(trace ? trace.input : []).map((letter, j) => {
        const tile = el('span', { class: 'letter' }, letter);
        if (decoderOnly) tile.title = `${letter}: position ${j + 1} of the sequence`;
        if (weights) {
          tile.style.backgroundColor = viridisCss(weights[j]);
          tile.style.color = inkOn(weights[j]);
          tile.title = `${letter}: ${fmt(weights[j])}`;
        }
        return tile;
      }));
      if (!trace) letters.append(el('span', { class: 'token-placeholder' }, model ? 'Type a word above.' : 'Loading the model…'));
      if (decoderOnly) {
        setText(caption, trace ? `positions 1–${trace.input.length} of the one sequence, after <s>. ${NO_ENCODER_NOTE}` : '');
        return;
      }
      setText(caption, weights
        ? `shaded by cross-attention for ${trace.produced[row]} (layer ${sel.layer + 1}, ${headName(sel.head, model.config.n_heads)})`
        : '');
    },
  };
}

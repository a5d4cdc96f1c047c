// The word's letters, each shaded by how much the decoder row shown attends to it (cross-attention, at
// the layer and head chosen on the cross-attention tab): where spelling meets sound. A decoder-only model
// has no encoder: its input is the prompt, positions 1… of the one sequence it reads (not shaded).
import { rowOf } from '../attention.js';
import { headName } from '../views.js';
import { NO_ENCODER_NOTE } from '../inside_texts.js';
import { h, patch } from './patch.js';
import { Memo, fmt, setText } from './util.js';
import { colourClass } from './vectors.js';

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
      if (!memo.changed(trace, trace?.stepMs.length, row, sel.layer, sel.head, model, store.state.message)) return;
      // The tiles patched in place (patch.js), their colour a class (vectors.js colourClass) that changes
      // at once (style.css gives .letter no transition: the step's frame shows the new colours).
      const decoderOnly = Boolean(model && !model.encoderDecoder);
      setText(label, decoderOnly ? 'The prompt ' : 'Your word ');
      const weights = trace && row >= 0 && !decoderOnly ? rowOf(trace.cross, sel.layer, sel.head, trace.input.length, row) : null;
      patch(letters, trace
        ? trace.input.map((letter, j) => h('span', {
          class: weights ? `letter ${colourClass(weights[j])}` : 'letter',
          title: weights ? `${letter}: ${fmt(weights[j])}` : decoderOnly ? `${letter}: position ${j + 1} of the sequence` : null,
        }, letter))
        : [h('span', { class: 'token-placeholder' }, !model ? 'Loading the model…'
          : store.state.message?.kind === 'error' && store.state.word.trim() ? 'Nothing decoded: the message above says why.' : 'Type a word above.')]);
      if (decoderOnly) {
        // (an invention has no prompt: the model writes every token after <s>, its letters in the pronunciation row)
        setText(caption, !trace ? '' : trace.input.length === 0
          ? `none: inventing, the model writes every token after <s> itself. ${NO_ENCODER_NOTE}`
          : `positions 1–${trace.input.length} of the one sequence, after <s>. ${NO_ENCODER_NOTE}`);
        return;
      }
      setText(caption, weights
        ? `shaded by cross-attention for ${trace.produced[row]} (layer ${sel.layer + 1}, ${headName(sel.head, model.config.n_heads)})`
        : '');
    },
  };
}

// The controls of "Open the box": the decoder layer and the head looked inside (store.state.inside), and
// a line on which row is open (the row shown: click a phoneme, or step). The panels it steers are
// inside_head.js, residual.js, code.js and kv_cache.js.
import { BEAM_NOTE, rowNote } from '../inside_texts.js';
import { el } from '../tooltip.js';
import { Memo, setProperty, setText } from './util.js';

export function create(root, store) {
  const layerSelect = root.querySelector('#open-layer');
  const headSelect = root.querySelector('#open-head');
  const note = root.querySelector('#open-note');
  layerSelect.addEventListener('change', () => store.actions.setInside({ layer: Number(layerSelect.value) }));
  headSelect.addEventListener('change', () => store.actions.setInside({ head: Number(headSelect.value) }));
  const modelMemo = new Memo();
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!model) return;
      const c = model.config;
      if (modelMemo.changed(model)) {
        layerSelect.replaceChildren(...Array.from({ length: c.n_decoder_layers }, (_, l) => el('option', { value: String(l) }, `layer ${l + 1}`)));
        headSelect.replaceChildren(...Array.from({ length: c.n_heads }, (_, h) => el('option', { value: String(h) }, `head ${h + 1}`)));
      }
      setProperty(layerSelect, 'value', String(store.state.inside.layer));
      setProperty(headSelect, 'value', String(store.state.inside.head));
      const row = selection.row;
      const record = trace?.inside?.[row];
      let text = '';
      if (trace?.strategy === 'beam') text = BEAM_NOTE;
      else if (record) text = rowNote({ row, token: trace.queries[row], produced: trace.produced[row], teacherForced: record.teacherForced, prompt: record.prompt, promptRows: trace.promptRows });
      setText(note, text);
    },
  };
}

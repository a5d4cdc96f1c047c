// Under the output: what the phonemes are and what a vowel's digit means, said once (web/phonemes.js),
// for a model whose vocabulary is ARPAbet; nothing for any other. Also starts the phonemes' tooltips
// (web/phoneme_tips.js) for the whole page.
import { STRESS_NOTE, STRESS_NOTE_AFTER_SEP, explainerFor } from '../phonemes.js';
import { installPhonemeTips } from '../phoneme_tips.js';
import { Memo, setProperty, setText } from './util.js';

export const PHONEME_HINT = 'Hover, tap or focus a phoneme for its sound.';

export function create(root, store) {
  installPhonemeTips(store);
  const memo = new Memo();
  return {
    update(trace) {
      const model = store.state.model;
      if (!memo.changed(model, Boolean(trace))) return;
      const known = Boolean(trace) && explainerFor(model).arpabet === true;
      setProperty(root, 'hidden', !known);
      setText(root, known ? `${model.encoderDecoder ? STRESS_NOTE : STRESS_NOTE_AFTER_SEP} ${PHONEME_HINT}` : '');
    },
  };
}

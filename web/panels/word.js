// The word card: the word box, "Surprise me" and the example words for the model in use.
import { el } from '../tooltip.js';
import { examplesFor } from '../choices.js';
import { Memo, setAttribute, setProperty } from './util.js';

export function create(root, store) {
  const input = root.querySelector('#word');
  const surprise = root.querySelector('#surprise');
  const examples = root.querySelector('#examples');
  const wordMemo = new Memo();
  const chipsMemo = new Memo();
  const currentMemo = new Memo();
  let chips = [];
  return {
    update() {
      const { model, loading, word, wordSet, message, session } = store.state;
      if (wordMemo.changed(wordSet) && input.value !== word) input.value = word;  // the page chose a word
      setProperty(input, 'disabled', !model);
      setAttribute(input, 'aria-invalid', String(message?.kind === 'error' && message.field === 'word' && !session));
      setProperty(surprise, 'disabled', !model || Boolean(loading));
      if (!model) return;
      if (chipsMemo.changed(model)) {
        chips = examplesFor(model).map((w) => {
          const chip = el('button', { type: 'button', class: 'chip', 'data-word': w }, w);
          chip.addEventListener('click', () => store.actions.chooseWord(w));
          return chip;
        });
        examples.replaceChildren(el('span', { class: 'hint' }, 'Try'), ...chips);
        currentMemo.reset();
      }
      if (currentMemo.changed(word)) for (const chip of chips) setAttribute(chip, 'aria-current', String(chip.dataset.word === word));
    },
  };
}

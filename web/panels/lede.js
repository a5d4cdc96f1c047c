// The headline, the first paragraph and the input/output labels: true for the model loaded (the words
// are in web/views.js).
import { el } from '../tooltip.js';
import { lede } from '../views.js';
import { Memo, setText } from './util.js';

const PAPER = 'https://arxiv.org/abs/1706.03762';

export function create(root, store) {
  const title = root.querySelector('#lede-title');
  const text = root.querySelector('#lede-text');
  const inputLabel = root.querySelector('#word-label');
  const outputLabel = root.querySelector('#output-label');
  const memo = new Memo();
  return {
    update() {
      const { model } = store.state;
      if (!memo.changed(model)) return;
      const words = lede(model);
      setText(title, words.title);
      text.replaceChildren(...words.text.map((part) => (part === 'link' ? el('a', { href: PAPER }, 'Vaswani et al., 2017') : part)));
      setText(inputLabel, words.input);
      setText(outputLabel, words.output);
    },
  };
}

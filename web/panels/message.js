// The message box under the cards: an engine error, or a notice (a model loaded, a word replaced).
import { Memo } from './util.js';

export function create(root, store) {
  const memo = new Memo();
  return {
    update() {
      const m = store.state.message;
      if (!memo.changed(m)) return;
      root.hidden = !m;
      if (!m) return;  // hidden, its last text kept
      root.className = `message${m.kind === 'info' ? ' info' : ''}`;
      root.replaceChildren(m.text);
    },
  };
}

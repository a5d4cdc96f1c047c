// The tabs above the explorer: which matrix to enlarge (the list and its names are in web/views.js).
import { el } from '../tooltip.js';
import { VIEWS } from '../views.js';
import { Memo, setAttribute } from './util.js';

export function create(root, store) {
  const tabs = VIEWS.map((v) => {
    const tab = el('button', { type: 'button', role: 'tab', class: 'view-tab', id: `tab-${v.id}`, 'data-view': v.id }, v.tab);
    tab.addEventListener('click', () => store.actions.setView(v.id));
    return tab;
  });
  root.append(...tabs);
  const memo = new Memo();
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!memo.changed(selection.view, model)) return;
      // A decoder-only model has no encoder, so neither cross-attention nor encoder self-attention.
      const decoderOnly = Boolean(model && !model.encoderDecoder);
      for (const tab of tabs) {
        setAttribute(tab, 'aria-selected', String(tab.dataset.view === selection.view));
        tab.hidden = decoderOnly && ['cross', 'encoder'].includes(tab.dataset.view);
      }
    },
  };
}

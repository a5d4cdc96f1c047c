// The tabs above the explorer: which matrix to enlarge (the list and its names are in web/views.js).
// A WAI-ARIA tab list: one tab in the Tab order (the one selected), ← → Home End move between the tabs
// and select the one reached; the explorer under them (#view-panel) is the tab panel they control.
import { el } from '../tooltip.js';
import { VIEWS } from '../views.js';
import { Memo, setAttribute } from './util.js';

const PANEL = 'view-panel';

export function create(root, store) {
  const tabs = VIEWS.map((v) => {
    const tab = el('button', {
      type: 'button', role: 'tab', class: 'view-tab', id: `tab-${v.id}`, 'data-view': v.id, 'aria-controls': PANEL,
      'aria-selected': 'false', tabindex: '-1',
    }, v.tab);
    tab.addEventListener('click', () => store.actions.setView(v.id));
    return tab;
  });
  root.append(...tabs);
  root.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const shown = tabs.filter((t) => !t.hidden);
    const at = shown.indexOf(e.target);
    if (at < 0) return;
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: shown.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const tab = shown[(to + shown.length) % shown.length];
    tab.focus();
    store.actions.setView(tab.dataset.view);
  });
  const panel = document.getElementById(PANEL);
  const memo = new Memo();
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!memo.changed(selection.view, model)) return;
      // A decoder-only model has no encoder, so neither cross-attention nor encoder self-attention.
      const decoderOnly = Boolean(model && !model.encoderDecoder);
      for (const tab of tabs) {
        const selected = tab.dataset.view === selection.view;
        setAttribute(tab, 'aria-selected', String(selected));
        setAttribute(tab, 'tabindex', selected ? '0' : '-1');
        tab.hidden = decoderOnly && ['cross', 'encoder'].includes(tab.dataset.view);
      }
      if (panel) setAttribute(panel, 'aria-labelledby', `tab-${selection.view}`);
    },
  };
}

// Under the next-token bars during a beam search: the live beams and the finished hypotheses, best first,
// with their log-probabilities and length-normalised scores.
import { el } from '../tooltip.js';
import { Memo, setProperty } from './util.js';

function renderBeams(container, { live, results, shown, width }) {
  const table = (list, finished) =>
    el('table', {},
      el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'phonemes'), el('th', { class: 'num' }, 'log p'), el('th', { class: 'num' }, 'score'))),
      el('tbody', {}, list.map((h, k) =>
        el('tr', { class: h === shown ? 'best' : '' },
          el('td', {}, String(k + 1)),
          el('td', { class: 'phones' }, h.text || '∅', finished ? el('span', { class: 'tag' }, 'done') : null),
          el('td', { class: 'num' }, h.logProb.toFixed(2)),
          el('td', { class: 'num' }, h.score.toFixed(3)),
        ))),
    );
  container.replaceChildren(
    el('h4', {}, `Live beams (${live.length} of ${width})`),
    live.length ? table(live, false) : el('p', { class: 'panel-note' }, 'none left: every beam has finished or fallen behind'),
    el('h4', {}, 'Finished'),
    results.length ? table(results, true) : el('p', { class: 'panel-note' }, 'none yet'),
  );
}

export function create(root, store) {
  const memo = new Memo();
  return {
    update(trace) {
      if (!store.state.model) return;
      setProperty(root, 'hidden', !trace?.beams);
      if (!trace?.beams || !memo.changed(trace, trace.stepMs.length)) return;
      renderBeams(root, { ...trace.beams, width: store.state.session.settings.beamWidth });
    },
  };
}

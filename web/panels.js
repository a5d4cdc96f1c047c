// The side panels: the next-token distribution of one decoder row, and the beams of a beam search.
import { el } from './tooltip.js';

const percent = (p) => (p >= 0.995 ? `${(p * 100).toFixed(0)}%` : p >= 0.001 ? `${(p * 100).toFixed(1)}%` : p > 0 ? '<0.1%' : '0%');

/**
 * Bars for the `top` most likely tokens of a row. dist: { probs, logits, chosen }; model: the model's own
 * softmax (temperature 1), drawn as a grey bar behind the distribution actually used when it differs
 * (sampling with temperature, top-k, top-p). onHover(token info, x, y) / onLeave for the tooltip.
 */
export function renderDistribution(container, { dist, model, tokens, top = 8, onHover, onLeave }) {
  const used = dist.probs;
  const order = Array.from(used.keys()).sort((a, b) => Math.max(model[b], used[b]) - Math.max(model[a], used[a]));
  const shown = order.slice(0, top);
  if (!shown.includes(dist.chosen)) shown[shown.length - 1] = dist.chosen;
  const differs = used.some((p, i) => Math.abs(p - model[i]) > 1e-6);
  const rows = shown.map((id) => {
    const model100 = Math.max(0, Math.min(100, model[id] * 100));
    const used100 = Math.max(0, Math.min(100, used[id] * 100));
    const fill = el('span', { class: 'bar-fill' });
    fill.style.width = `${used100}%`;
    const ghost = differs ? el('span', { class: 'bar-model' }) : null;
    if (ghost) ghost.style.width = `${model100}%`;
    const row = el('div', { class: `bar-row${id === dist.chosen ? ' chosen' : ''}`, 'data-token': tokens[id] },
      el('span', { class: 'bar-token' }, tokens[id]),
      el('span', { class: 'bar-track' }, ghost, fill),
      el('span', { class: 'bar-value' }, percent(used[id])),
    );
    const hover = (e) => onHover?.({ id, token: tokens[id], p: used[id], model: model[id], logit: dist.logits[id], chosen: id === dist.chosen }, e.clientX, e.clientY);
    row.addEventListener('mousemove', hover);
    row.addEventListener('click', hover);  // touch screens
    row.addEventListener('mouseleave', () => onLeave?.());
    return row;
  });
  const legend = differs
    ? el('div', { class: 'dist-legend' }, el('span', {}, 'sampled from'), el('span', { class: 'ghost' }, 'model (T = 1)'))
    : null;
  container.replaceChildren(...rows, ...(legend ? [legend] : []));
}

/** The live beams and finished hypotheses of a beam search, best first. */
export function renderBeams(container, { live, results, shown, width }) {
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

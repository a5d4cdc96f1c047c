// The next-token distribution of the row shown: the linear layer and softmax over the last decoder layer,
// the `top` most likely tokens as bars and one bar for all the others (the token chosen highlighted; with sampling, the model's own
// softmax at temperature 1 drawn in grey behind the distribution sampled from), and a sentence on how the
// strategy chose. Hover or tap a bar for its probability and logit (and what a phoneme sounds like).
import { softmax } from '../session.js';
import { el, showTooltip, hideTooltip } from '../tooltip.js';
import { explainerFor } from '../phonemes.js';
import { phonemeLines } from '../phoneme_tips.js';
import { Memo, fmt, setText, shorten } from './util.js';
import { OTHERS_LABEL, sampledNote } from '../views.js';

const percent = (p) => (p >= 0.995 ? `${(p * 100).toFixed(0)}%` : p >= 0.001 ? `${(p * 100).toFixed(1)}%` : p > 0 ? '<0.1%' : '0%');

function tooltipOf(info, x, y) {
  showTooltip([
    [el('strong', { class: 'mono' }, info.token), info.chosen ? el('span', { class: 'dim' }, '  chosen') : ''],
    [`p = ${fmt(info.p)}`, Math.abs(info.p - info.model) > 1e-7 ? el('span', { class: 'dim' }, ` (model: ${fmt(info.model)})`) : ''],
    [el('span', { class: 'dim' }, 'logit '), info.logit.toFixed(4)],
    ...phonemeLines(info.explanation),
  ], x, y);
}

/**
 * Bars for the `top` most likely tokens of a row. dist: { probs, logits, chosen }; model: the model's own
 * softmax (temperature 1), drawn as a grey bar behind the distribution actually used when it differs
 * (sampling with temperature, top-k, top-p).
 */
function renderDistribution(container, { dist, model, tokens, explain, top = 8 }) {
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
    const row = el('div', { class: `bar-row${id === dist.chosen ? ' chosen' : ''}`, 'data-token': tokens[id], 'data-p': String(used[id]) },
      el('span', { class: 'bar-token' }, tokens[id]),
      el('span', { class: 'bar-track' }, ghost, fill),
      el('span', { class: 'bar-value' }, percent(used[id])),
    );
    const hover = (e) => tooltipOf({ id, token: tokens[id], p: used[id], model: model[id], logit: dist.logits[id], chosen: id === dist.chosen, explanation: explain(tokens[id]) }, e.clientX, e.clientY);
    row.addEventListener('mousemove', hover);
    row.addEventListener('click', hover);  // touch screens
    row.addEventListener('mouseleave', hideTooltip);
    return row;
  });
  // Every token not drawn, in one bar: the bars add up to 100 % of the distribution sampled from.
  const rest = Array.from(used.keys()).filter((id) => !shown.includes(id));
  if (rest.length) {
    const p = rest.reduce((sum, id) => sum + used[id], 0);
    const pModel = rest.reduce((sum, id) => sum + model[id], 0);
    const fill = el('span', { class: 'bar-fill' });
    fill.style.width = `${Math.max(0, Math.min(100, p * 100))}%`;
    const ghost = differs ? el('span', { class: 'bar-model' }) : null;
    if (ghost) ghost.style.width = `${Math.max(0, Math.min(100, pModel * 100))}%`;
    const row = el('div', { class: 'bar-row others', 'data-token': '', 'data-p': String(p) },
      el('span', { class: 'bar-token' }, OTHERS_LABEL),
      el('span', { class: 'bar-track' }, ghost, fill),
      el('span', { class: 'bar-value' }, percent(p)),
    );
    row.title = `${rest.length} tokens`;
    rows.push(row);
  }
  const legend = differs
    ? el('div', { class: 'dist-legend' }, el('span', {}, 'sampled from'), el('span', { class: 'ghost' }, 'model (T = 1)'))
    : null;
  container.replaceChildren(...rows, ...(legend ? [legend] : []));
}

export function create(root, store) {
  const title = root.querySelector('#next-title');
  const note = root.querySelector('#next-note');
  const box = root.querySelector('#distribution');
  const memo = new Memo();
  return {
    update(trace, selection) {
      const { model, session } = store.state;
      if (!model) return;
      const row = selection.row;
      if (!memo.changed(trace, trace?.stepMs.length, row, model)) return;
      if (!trace || row < 0) {
        setText(title, 'Next token');
        setText(note, 'Linear layer + softmax over the last decoder layer: one probability per phoneme.');
        box.replaceChildren();
        return;
      }
      const tokens = model.targetTokens;
      const dist = trace.dist[row];
      const prefix = trace.queries.slice(0, row + 1).join(' ');
      setText(title, `Next token after “${shorten(prefix, 28)}”`);
      const top = tokens[dist.chosen];
      let text;
      if (row < trace.promptRows) {
        const best = tokens[session.topChoice(row)];
        text = `The prompt continues with ${top} (given, not chosen); the model's top choice here is ${best}${best === top ? ' too' : ''}.`;
      } else if (trace.mode === 'teacher') {
        const best = tokens[session.topChoice(row)];
        text = `The reference continues with ${top}; the model's top choice here is ${best}${best === top ? ' too' : ''}.`;
      } else if (trace.strategy === 'sample') {
        text = sampledNote(top);
      } else if (trace.strategy === 'beam') {
        text = `The best hypothesis continues with ${top}. Beam search keeps the ${session.settings.beamWidth} best-scoring sequences, not just the best token.`;
      } else {
        text = `Greedy decoding takes the most likely token: ${top}. Hover or tap a bar for its logit.`;
      }
      setText(note, text);
      renderDistribution(box, { dist, model: softmax(dist.logits), tokens, explain: explainerFor(model) });
    },
  };
}

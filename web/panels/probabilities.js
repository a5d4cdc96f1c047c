// The next-token distribution of the row shown: the linear layer and softmax over the last decoder layer,
// the `top` most likely tokens as bars and one bar for all the others (the token chosen highlighted; with sampling, the model's own
// softmax at temperature 1 drawn in grey behind the distribution sampled from), and a sentence on how the
// strategy chose. Hover or tap a bar for its probability and logit (and what a phoneme sounds like).
import { softmax } from '../session.js';
import { el, showTooltip, hideTooltip } from '../tooltip.js';
import { explainerFor } from '../phonemes.js';
import { phonemeLines } from '../phoneme_tips.js';
import { h, patch } from './patch.js';
import { Memo, fmt, setText } from './util.js';
import { OTHERS_LABEL, reshapes, sampledNote } from '../views.js';

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
  const width = (p) => `${Math.max(0, Math.min(100, p * 100))}%`;
  // (patched in place, patch.js: a step rewrites the bars that changed, not the list)
  const rows = shown.map((id) => {
    const hover = (e) => tooltipOf({ id, token: tokens[id], p: used[id], model: model[id], logit: dist.logits[id], chosen: id === dist.chosen, explanation: explain(tokens[id]) }, e.clientX, e.clientY);
    return h('div', {
      class: `bar-row${id === dist.chosen ? ' chosen' : ''}`, 'data-token': tokens[id], 'data-p': String(used[id]),
      on: { mousemove: hover, click: hover, mouseleave: hideTooltip },  // (click: touch screens)
    },
    h('span', { class: 'bar-token' }, tokens[id]),
    h('span', { class: 'bar-track' }, differs ? h('span', { class: 'bar-model', style: { width: width(model[id]) } }) : null,
      h('span', { class: 'bar-fill', style: { width: width(used[id]) } })),
    h('span', { class: 'bar-value' }, percent(used[id])));
  });
  // Every token not drawn, in one bar: the bars add up to 100 % of the distribution sampled from.
  const rest = Array.from(used.keys()).filter((id) => !shown.includes(id));
  if (rest.length) {
    const p = rest.reduce((sum, id) => sum + used[id], 0);
    const pModel = rest.reduce((sum, id) => sum + model[id], 0);
    rows.push(h('div', { class: 'bar-row others', 'data-token': '', 'data-p': String(p), title: `${rest.length} tokens` },
      h('span', { class: 'bar-token' }, OTHERS_LABEL),
      h('span', { class: 'bar-track' }, differs ? h('span', { class: 'bar-model', style: { width: width(pModel) } }) : null,
        h('span', { class: 'bar-fill', style: { width: width(p) } })),
      h('span', { class: 'bar-value' }, percent(p))));
  }
  const legend = differs
    ? h('div', { class: 'dist-legend' }, h('span', {}, 'sampled from'), h('span', { class: 'ghost' }, 'model (T = 1)'))
    : null;
  patch(container, [...rows, legend]);
}

/** The last whole tokens that fit in about `max` characters, "…" before them when some are left out. */
export function lastTokens(tokens, max) {
  let text = tokens.at(-1) ?? '';
  for (let k = tokens.length - 2; k >= 0; k--) {
    if (text.length + 1 + tokens[k].length > max) return `… ${text}`;
    text = `${tokens[k]} ${text}`;
  }
  return text;
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
        setText(note, `Linear layer + softmax over the last decoder layer: one probability per token of the model's vocabulary (${model.targetTokens.length} tokens).`);
        patch(box, []);
        return;
      }
      const tokens = model.targetTokens;
      const dist = trace.dist[row];
      setText(title, `Next token after “${lastTokens(trace.queries.slice(0, row + 1), 28)}”`);
      const top = tokens[dist.chosen];
      let text;
      if (row < trace.promptRows) {
        const best = tokens[session.topChoice(row)];
        text = `The prompt continues with ${top} (given, not chosen); the model's top choice here is ${best}${best === top ? ' too' : ''}.`;
      } else if (trace.mode === 'teacher') {
        const best = tokens[session.topChoice(row)];
        text = `The reference continues with ${top}; the model's top choice here is ${best}${best === top ? ' too' : ''}.`;
      } else if (trace.strategy === 'sample') {
        text = sampledNote(top, session.settings);
      } else if (trace.strategy === 'beam') {
        const width = session.settings.beamWidth;
        text = width === 1 ? `The beam continues with ${top}: with a beam of 1, beam search keeps only the best token, as greedy decoding does.`
          : `The best hypothesis continues with ${top}. Beam search keeps the ${width} best-scoring sequences, not just the best token.`;
      } else {
        text = `Greedy decoding takes the most likely token: ${top}. Hover or tap a bar for its logit.`;
      }
      setText(note, text);
      // the grey bars of the model's own distribution only where sampling reshaped it (elsewhere the engine's
      // float32 softmax and this one differ in the 7th digit, which is no difference to draw)
      const reshaped = trace.strategy === 'sample' && reshapes(session.settings);
      renderDistribution(box, { dist, model: reshaped ? softmax(dist.logits) : dist.probs, tokens, explain: explainerFor(model) });
    },
  };
}

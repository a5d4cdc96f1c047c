// Under the next-token bars during a beam search: the score explained with the numbers of the hypothesis
// shown (log p, its length, α), then the live beams and the finished hypotheses, best first, each with its
// log-probability, length and length-normalised score. The engine's rule (src/engine/decoding.cpp,
// BeamSearch): score = log p / length^α, log p the sum of the log-probabilities of the hypothesis' tokens
// (</s> included), length their number; the live beams are kept by log p, the finished ranked by score.
import { el } from '../tooltip.js';
import { phonemeAttributes } from '../phoneme_tips.js';
import { Memo, setProperty } from './util.js';

/** A number as the panel writes it: three decimals, a true minus sign. */
export const num = (x) => x.toFixed(3).replace(/^-/, '−');
/** α as written: as few decimals as it needs. */
export const alphaText = (alpha) => String(Number(alpha.toFixed(3))).replace(/^-/, '−');

/** "log p / length^α" for one hypothesis, as nodes: −0.083 / 5^1 = −0.017. */
export function scoreSum(h, alpha) {
  return [num(h.logProb), ' / ', String(h.ids.length), el('sup', {}, alphaText(alpha)), ' = ', el('strong', {}, num(h.score))];
}

function phones(model, h) {
  if (h.tokens.length === 0) return ['∅'];
  return h.tokens.flatMap((token, k) => [k ? ' ' : '', el('span', phonemeAttributes(model, token), token)]);
}

function renderBeams(container, model, { live, results, shown, width, lengthPenalty: alpha }, done) {
  const eos = model.targetTokens[model.eos];
  const table = (list, finished) =>
    el('table', {},
      el('thead', {}, el('tr', {},
        el('th', {}, '#'), el('th', {}, 'phonemes'), el('th', { class: 'num' }, 'log p'),
        el('th', { class: 'num', title: `tokens, ${eos} included` }, 'length'), el('th', { class: 'num' }, 'score'))),
      el('tbody', {}, list.map((h, k) =>
        el('tr', {
          class: h === shown ? 'best' : '',
          'data-log-p': String(h.logProb), 'data-length': String(h.ids.length), 'data-score': String(h.score),
          'data-tokens': h.tokens.join(' '),
        },
        el('td', {}, String(k + 1)),
        el('td', { class: 'phones' }, ...phones(model, h), finished ? el('span', { class: 'tag' }, h.finished ? 'done' : 'length limit') : null),
        el('td', { class: 'num' }, num(h.logProb)),
        el('td', { class: 'num' }, String(h.ids.length)),
        el('td', { class: 'num' }, num(h.score)),
        ))),
    );
  const which = !shown ? null : done ? 'The winner, the best score' : shown.finished ? 'The best finished hypothesis' : 'The best live beam';
  const example = shown
    ? el('p', { class: 'score-example', 'data-log-p': String(shown.logProb), 'data-length': String(shown.ids.length), 'data-score': String(shown.score), 'data-alpha': String(alpha) },
      `${which}: `, ...scoreSum(shown, alpha), ` (log p ${num(shown.logProb)}, length ${shown.ids.length}, α = ${alphaText(alpha)}).`)
    : null;
  container.replaceChildren(
    el('p', { class: 'panel-note score-rule' },
      'Score = log p / length', el('sup', {}, 'α'), `, α = ${alphaText(alpha)}: log p adds up the log-probabilities of the tokens the hypothesis chose (${eos} included), length counts them. `,
      width === 1 ? 'Each step keeps the one live beam with the highest log p (a beam of 1: greedy decoding); the finished hypotheses, of different lengths, are ranked by score.'
        : `Each step keeps the ${width} live beams with the highest log p; the finished hypotheses, of different lengths, are ranked by score.`),
    example,
    el('h4', {}, `Live beams (${live.length} of ${width})`),
    live.length ? table(live, false) : el('p', { class: 'panel-note' }, 'none left: every beam has finished or fallen behind'),
    el('h4', {}, 'Finished, best score first'),
    results.length ? table(results, true) : el('p', { class: 'panel-note' }, 'none yet'),
  );
}

export function create(root, store) {
  const memo = new Memo();
  return {
    update(trace) {
      const model = store.state.model;
      if (!model) return;
      setProperty(root, 'hidden', !trace?.beams);
      if (!trace?.beams || !memo.changed(trace, trace.stepMs.length, model)) return;
      renderBeams(root, model, trace.beams, trace.done);
    },
  };
}

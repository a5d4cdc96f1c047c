// Beam search's tree of expansions, drawn from the engine's own beams, step by step (session.js keeps
// every step's: the live beams and the hypotheses the step finished, each with its parent, the beam it
// extends; stepwise.js finds it). Column 0 is <s>, the empty hypothesis; column k holds what step k kept.
// A line joins each hypothesis to its parent. Finished hypotheses (ended with </s>) are marked, beams
// that no later step extended are faded, and the winner's path (or, during the search, the best live
// beam's) is drawn in the accent colour. Hover or tap a node for its numbers.
import { el, hideTooltip, showTooltip } from '../tooltip.js';
import { explainerFor } from '../phonemes.js';
import { phonemeLines } from '../phoneme_tips.js';
import { Memo, setAttribute, setProperty, setText, shorten } from './util.js';
import { alphaText, num, scoreSum } from './beams.js';

const SVG = 'http://www.w3.org/2000/svg';
const COLUMN = 64;   // px between steps
const ROW = 26;      // px between the nodes of a step
const NODE_W = 46;
const NODE_H = 20;
const TOP = 22;      // the step numbers above the nodes
const LEFT = 6;

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) if (value !== null && value !== undefined && value !== false) node.setAttribute(key, String(value));
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

const sameIds = (a, b) => a.length === b.length && a.every((id, k) => id === b[k]);

/**
 * The tree as columns of nodes: { columns: [[node]], winner, path: Set of nodes }. A node: the hypothesis
 * (ids, tokens, logProb, score, finished, parent) with step, index, state ('root', 'live', 'dropped',
 * 'unexpanded', 'eos', 'limit') and children.
 */
export function beamTree(beams, done) {
  const root = { ids: [], tokens: [], logProb: 0, score: 0, parent: -1, step: 0, index: 0, state: 'root', children: 0 };
  const columns = [[root]];
  beams.steps.forEach((step, k) => {
    const column = [
      ...step.live.map((h) => ({ ...h, state: 'live' })),
      ...step.finished.map((h) => ({ ...h, state: h.finished ? 'eos' : 'limit' })),
    ].map((node, index) => ({ ...node, step: k + 1, index, children: 0 }));
    for (const node of column) if (node.parent >= 0) columns[k][node.parent].children++;
    columns.push(column);
  });
  const last = columns.length - 1;
  for (const column of columns) {
    for (const node of column) {
      if (node.state !== 'live' || node.children > 0) continue;
      if (node.step < last) node.state = 'dropped';        // no continuation of it was kept
      else if (done) node.state = 'unexpanded';            // the search stopped with it still live
    }
  }
  // the winner (the best score among the finished), else the best live beam: the hypothesis shown above
  const target = beams.shown;
  let winner = null;
  if (target) {
    const column = columns[target.ids.length] ?? [];
    winner = column.find((n) => sameIds(n.ids, target.ids) && n.state !== 'root') ?? null;
  }
  const path = new Set();
  for (let node = winner; node; node = node.step > 0 ? columns[node.step - 1][node.parent] : null) path.add(node);
  return { columns, winner, path };
}

const STATE_TEXT = {
  root: '<s>: the empty hypothesis every beam starts from',
  prompt: '<s> and the prompt: every beam starts from them, with no token chosen yet',
  live: 'live: extended at the next step',
  dropped: 'dropped: none of its continuations was kept',
  unexpanded: 'live when the search stopped (enough hypotheses had finished)',
  eos: 'finished: it chose EOS',
  limit: 'stopped at the length limit, unfinished',
};

function tooltipLines(node, { alpha, winner, done, explain, decoderOnly, eos }) {
  const lines = [];
  if (node.state === 'root') return [[decoderOnly ? STATE_TEXT.prompt : STATE_TEXT.root]];
  lines.push([el('strong', { class: 'mono' }, node.tokens.join(' '))]);
  lines.push([el('span', { class: 'dim' }, `step ${node.step} · `), STATE_TEXT[node.state].replace('EOS', eos), node === winner ? el('strong', {}, done ? ' · the winner' : ' · the best live beam') : '']);
  lines.push([el('span', { class: 'dim' }, 'score = log p / length'), el('sup', { class: 'dim' }, 'α'), el('span', { class: 'dim' }, ' = '), ...scoreSum(node, alpha)]);
  lines.push(...phonemeLines(explain(node.tokens.at(-1))));
  return lines;
}

export function create(root, store) {
  const note = root.querySelector('#beam-tree-note');
  const wrap = root.querySelector('#beam-tree-wrap');
  const legend = root.querySelector('#beam-tree-legend');
  const memo = new Memo();
  let nodes = new Map();   // <g> -> node, for the tooltip
  let info = null;

  const hover = (e) => {
    const g = e.target.closest?.('.beam-node');
    if (!g || !nodes.has(g)) return;
    showTooltip(tooltipLines(nodes.get(g), info), e.clientX, e.clientY);
  };
  wrap.addEventListener('mousemove', hover);
  wrap.addEventListener('click', hover);  // touch screens: a tap elsewhere hides it (web/app.js)
  wrap.addEventListener('mouseleave', hideTooltip);

  function draw(trace, model) {
    const beams = trace.beams;
    const { columns, winner, path } = beamTree(beams, trace.done);
    const explain = explainerFor(model);
    const eos = model.targetTokens[model.eos];
    info = { alpha: beams.lengthPenalty, winner, done: trace.done, explain, decoderOnly: trace.decoderOnly, eos };
    const rows = Math.max(...columns.map((c) => c.length));
    const width = LEFT * 2 + (columns.length - 1) * COLUMN + NODE_W;
    const height = TOP + rows * ROW + 4;
    const x = (node) => LEFT + node.step * COLUMN;
    const y = (node) => TOP + node.index * ROW;
    const edges = [];
    const drawn = [];
    nodes = new Map();
    for (const column of columns) {
      for (const node of column) {
        if (node.step > 0) {
          const parent = columns[node.step - 1][node.parent];
          const x0 = x(parent) + NODE_W;
          const y0 = y(parent) + NODE_H / 2;
          const x1 = x(node);
          const y1 = y(node) + NODE_H / 2;
          const mid = (x0 + x1) / 2;
          edges.push(svg('path', {
            class: `beam-edge${path.has(node) ? ' on-path' : ''}${['dropped', 'unexpanded'].includes(node.state) ? ' faded' : ''}`,
            d: `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1}`,
          }));
        }
        const label = node.state === 'root' ? `${model.targetTokens[model.bos]}${trace.decoderOnly ? ' …' : ''}` : node.tokens.at(-1);
        const g = svg('g', {
          class: `beam-node ${node.state}${node === winner ? ' winner' : ''}${path.has(node) ? ' on-path' : ''}`,
          transform: `translate(${x(node)},${y(node)})`,
          'data-step': node.step, 'data-index': node.index, 'data-parent': node.parent, 'data-state': node.state,
          'data-tokens': node.tokens.join(' '), 'data-log-p': node.logProb, 'data-score': node.score, 'data-length': node.ids.length,
        },
        svg('rect', { width: NODE_W, height: NODE_H, rx: 4 }),
        svg('text', { x: NODE_W / 2, y: NODE_H / 2 + 4, 'text-anchor': 'middle' }, shorten(label ?? '', 6)));
        nodes.set(g, node);
        drawn.push(g);
      }
    }
    const steps = columns.slice(1).map((c) => svg('text', { class: 'beam-step', x: LEFT + c[0].step * COLUMN + NODE_W / 2, y: 12, 'text-anchor': 'middle' }, String(c[0].step)));
    const kept = columns.slice(1).reduce((n, c) => n + c.length, 0);
    const finished = columns.flat().filter((n) => n.state === 'eos' || n.state === 'limit').length;
    const summary = winner
      ? `${trace.done ? 'winner' : 'best live beam'}: ${winner.tokens.join(' ')} (score ${num(winner.score)})`
      : 'no hypothesis yet';
    const drawing = svg('svg', {
      class: 'beam-tree', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
      'aria-label': `Tree of expansions: ${kept} hypotheses kept over ${columns.length - 1} steps, ${finished} finished; ${summary}`,
    }, svg('g', {}, steps), svg('g', {}, edges), svg('g', {}, drawn));
    wrap.replaceChildren(drawing);

    setText(note, `Each step ranks every continuation of every live beam by log p (they all have the same length there): `
      + (beams.width === 1 ? `the best one is kept (finished if it is ${eos}): with a beam of 1 this is greedy decoding. `
        : `one ending with ${eos} among the best ${beams.width} is finished, and the best ${beams.width} others stay live. `)
      + `Column k holds what step k kept, the live beams first (highest log p on top), and a line joins each to the beam it extends. `
      + `Finished hypotheses, of different lengths, are ranked by score = log p / length^α with α = ${alphaText(beams.lengthPenalty)} `
      + `(α = 0 compares log p alone, which favours short ones). So far: ${kept} hypotheses kept in ${columns.length - 1} `
      + `${columns.length === 2 ? 'step' : 'steps'}, ${finished} finished. Hover or tap a node for its numbers.`);
    legend.replaceChildren(...[
      el('span', { class: 'key eos' }, `finished (chose ${eos})`),
      columns.flat().some((n) => n.state === 'limit') ? el('span', { class: 'key limit' }, 'stopped at the length limit') : null,
      el('span', { class: 'key dropped' }, 'not extended further'),
      winner ? el('span', { class: 'key winner' }, trace.done ? 'the winner: the best score, and its path' : 'the best live beam so far (highest log p), and its path') : null,
    ].filter(Boolean));
  }

  return {
    update(trace) {
      const model = store.state.model;
      if (!model) return;
      setProperty(root, 'hidden', !trace?.beams);
      if (!trace?.beams || !memo.changed(trace, trace.stepMs.length, model)) return;
      draw(trace, model);
      setAttribute(root, 'data-steps', String(trace.beams.steps.length));
    },
  };
}

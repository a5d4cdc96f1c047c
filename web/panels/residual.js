// The residual stream through one layer: the decoder block again (diagram.js's DecoderDiagram, drawn for
// the loaded model: pre- or post-norm, with or without cross-attention, the residual adds drawn), every
// box clickable; for the box lit (store.state.inside.box), at the row shown and the layer chosen, its
// input and output vectors as the engine recorded them (session.js: run.inside()), and how much it adds
// to the stream (‖output‖ / ‖stream in‖). The words are in web/inside_texts.js.
import { BOXES, BEAM_NOTE, CONTRIBUTION, DECODER_ONLY_NOTE, HIDDEN_NOTE, LOGIT_NOTE, NO_STEP_NOTE } from '../inside_texts.js';
import { DecoderDiagram } from './diagram.js';
import { h, patch } from './patch.js';
import { Memo, fmt, setText } from './util.js';
import { hoverTips, norm, strip } from './vectors.js';

/** The sub-layer blocks of a layer, in order, as the probe names them. */
export const blocksOf = (c) => (c.architecture === 'decoder-only' ? ['self_block', 'ff_block'] : ['self_block', 'cross_block', 'ff_block']);

const BOX_BLOCK = { self: 'self_block', cross: 'cross_block', ffn: 'ff_block' };

/** The residual stream after block k of a layer record (post-norm: the LayerNorm's output). */
function streamAfter(c, L, block) {
  return c.norm_first ? L.vectors[`${block}.sum`] : L.vectors[`${block}.normed`];
}

function streamBefore(c, L, k) {
  return k === 0 ? L.vectors.input : streamAfter(c, L, blocksOf(c)[k - 1]);
}

/**
 * What box `box` reads and writes at a record's layer: { inputs: [[name, values]], outputs: [[name,
 * values]], stream (the residual stream entering it, for the contribution), extra }.
 */
export function boxVectors(c, record, layer, box, { logit = null } = {}) {
  const L = record.layers[layer];
  const blocks = blocksOf(c);
  const pre = Boolean(c.norm_first);
  if (box === 'embed') {
    return {
      inputs: [[c.scale_embedding ? `token_embedding (× √${c.d_model})` : 'token_embedding', record.token_embedding], ['positional', record.positional]],
      outputs: [['input (the stream into layer 1)', record.layers[0].vectors.input]],
    };
  }
  if (box === 'final') {
    const last = record.layers[record.layers.length - 1];
    return {
      inputs: [[`the stream after layer ${record.layers.length}`, streamAfter(c, last, blocks.at(-1))]],
      outputs: [['final_normed', record.final_normed]],
    };
  }
  if (box === 'next') {
    return { inputs: [['final_normed', record.final_normed]], outputs: [], logit };
  }
  if (box.startsWith('norm')) {
    const k = Number(box.slice(4)) - 1;
    const block = blocks[k];
    return pre
      ? { inputs: [['stream in', streamBefore(c, L, k)]], outputs: [[`${block}.normed`, L.vectors[`${block}.normed`]]] }
      : { inputs: [[`${block}.sum = stream + ${block}.output`, L.vectors[`${block}.sum`]]], outputs: [[`${block}.normed (the new stream)`, L.vectors[`${block}.normed`]]] };
  }
  const block = BOX_BLOCK[box];
  const k = blocks.indexOf(block);
  const stream = streamBefore(c, L, k);
  return {
    inputs: [[pre ? `${block}.normed` : 'stream in', pre ? L.vectors[`${block}.normed`] : stream]],
    outputs: [[`${block}.output`, L.vectors[`${block}.output`]]],
    stream,
    hidden: box === 'ffn' ? L.vectors.hidden : null,
  };
}

export function create(root, store) {
  const title = root.querySelector('#residual-title');
  const note = root.querySelector('#residual-note');
  const body = root.querySelector('#residual-body');
  hoverTips(body);
  const diagram = new DecoderDiagram(root.querySelector('#stream-diagram'), {
    side: false,
    onSelect: (part) => store.actions.setInside({ box: part }),
  });
  const modelMemo = new Memo();
  const boxMemo = new Memo();
  const fedMemo = new Memo();
  const memo = new Memo();
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!model) return;
      const c = model.config;
      if (modelMemo.changed(model)) diagram.build(c);
      const { box, layer } = store.state.inside;
      if (boxMemo.changed(box)) diagram.highlight(box);
      if (fedMemo.changed(trace, trace?.stepMs.length, model)) diagram.setFed(trace?.queries ?? [], trace);
      const row = selection.row;
      const record = trace?.inside?.[row] ?? null;
      const info = BOXES[box];
      const perLayer = !['embed', 'final', 'next'].includes(box);
      setText(title, `${info.title}${perLayer ? ` · layer ${layer + 1}` : ''}`);
      if (!memo.changed(trace, trace?.inside?.length, row, box, layer, model)) return;
      const notes = [info.caption(c, { teacher: Boolean(record?.teacherForced), causal: trace?.causal !== false })];
      if (!model.encoderDecoder) notes.push(DECODER_ONLY_NOTE);
      if (!record) notes.push(trace?.strategy === 'beam' ? BEAM_NOTE : NO_STEP_NOTE);
      setText(note, notes.join(' '));
      if (!record) {
        patch(body, []);
        return;
      }
      const dist = trace.dist[row];
      const logit = dist ? { token: model.targetTokens[dist.chosen], value: dist.logits[dist.chosen] } : null;
      patch(body, drawBox(c, boxVectors(c, record, layer, box, { logit })));
    },
  };
}

function vector(name, values, role) {
  return h('div', { class: 'vector', 'data-name': name, 'data-role': role },
    h('div', { class: 'vector-caption' }, `${role === 'in' ? 'in' : 'out'}: ${name}`, h('span', { class: 'dim' }, `  ‖·‖ = ${fmt(norm(values))}`)),
    strip(values, { name }));
}

function drawBox(c, v) {
  const nodes = [];
  for (const [name, values] of v.inputs) nodes.push(vector(name, values, 'in'));
  if (v.hidden) {
    let active = 0;
    for (const x of v.hidden) if (x > 0) active++;
    nodes.push(h('div', { class: 'vector', 'data-name': 'hidden', 'data-role': 'hidden' },
      h('div', { class: 'vector-caption' }, `hidden (after ${c.activation}): `, h('strong', { 'data-active': String(active) }, HIDDEN_NOTE({ active, total: v.hidden.length, activation: c.activation }))),
      strip(v.hidden, { name: 'hidden' })));
  }
  for (const [name, values] of v.outputs) nodes.push(vector(name, values, 'out'));
  if (v.stream) {
    const ratio = norm(v.outputs[0][1]) / norm(v.stream);
    nodes.push(h('p', { class: 'contribution', 'data-ratio': String(ratio) }, CONTRIBUTION({ ratio: ratio.toFixed(3) })));
  }
  if (v.logit) {
    nodes.push(h('p', { class: 'logit' }, 'logit of the chosen token ', h('strong', { class: 'mono' }, v.logit.token), ' = ',
      h('strong', { class: 'mono', 'data-value': String(v.logit.value), 'data-tip': `logit[${v.logit.token}] (the engine's)` }, fmt(v.logit.value))));
    nodes.push(h('p', { class: 'stage-text' }, LOGIT_NOTE));
  }
  return nodes;
}

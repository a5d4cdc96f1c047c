// The block panel beside the matrix: the decoder block as a small SVG diagram (after Figure 1 of Vaswani
// et al.), drawn from the model's configuration (post-norm as in the paper, or pre-norm), with the part
// that produced the current view highlighted (clicking a part selects its view); under it, what the view
// shows (web/views.js) and how the model normalises.
import { VIEWS, fedCaption, viewExplanation } from '../views.js';
import { Memo, setText } from './util.js';
import { NO_ENCODER_NOTE } from '../inside_texts.js';

const SVG = 'http://www.w3.org/2000/svg';

function node(tag, attributes = {}, parent = null) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) n.setAttribute(k, String(v));
  parent?.appendChild(n);
  return n;
}

const W = 236;
const DEC_X = 96;
const DEC_W = 136;
const BOX_X = DEC_X + 6;      // the layer's boxes; the residual lane runs on their right
const BOX_W = DEC_W - 30;
const MID = BOX_X + BOX_W / 2;
const LANE = DEC_X + DEC_W - 11;
const LEFT_X = 4;
const LEFT_W = 66;

/**
 * The boxes of one decoder layer, top to bottom, for a configuration: [part, ...lines]. Pre-norm puts a
 * LayerNorm before each sub-layer, post-norm an Add & Norm after it; a decoder-only model has no
 * cross-attention (nothing to cross-attend to) and so one LayerNorm fewer.
 */
export function layerSlots(config) {
  const cross = config.architecture !== 'decoder-only';
  const preNorm = Boolean(config.norm_first);
  const blocks = [['self', 'Masked', 'self-attention'], ...(cross ? [['cross', 'Cross-attention']] : []), ['ffn', 'Feed-forward']];
  const slots = [];
  blocks.forEach((block, k) => {
    const norm = [`norm${k + 1}`, preNorm ? 'LayerNorm' : 'Add & Norm'];
    if (preNorm) slots.push(norm, block);
    else slots.push(block, norm);
  });
  return slots.reverse();
}

/** Every box of the diagram for a configuration, bottom to top (the parts residual.js explains). */
export function diagramParts(config) {
  return ['embed', ...layerSlots(config).map(([part]) => part).reverse(), 'final', 'next'];
}

export class DecoderDiagram {
  constructor(svg, { onSelect, side = true }) {
    this.svg = svg;
    this.onSelect = onSelect;
    this.side = side;        // draw the encoder and the mask beside the layer
    this.boxes = new Map();  // part -> <g>
    this.wires = new Map();
    this.active = null;
    this.maskOn = true;
  }

  /** Draws the diagram for a model configuration. */
  build(config, queries = []) {
    const svg = this.svg;
    svg.replaceChildren();
    this.boxes.clear();
    this.wires.clear();
    const id = `arrow-${svg.id || 'diagram'}`;
    const defs = node('defs', {}, svg);
    const marker = node('marker', { id, viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
    node('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrowhead' }, marker);
    const arrow = `url(#${id})`;

    const preNorm = Boolean(config.norm_first);
    const hasCross = config.architecture !== 'decoder-only';
    const slots = layerSlots(config);
    const wiresLayer = node('g', {}, svg);
    const boxesLayer = node('g', {}, svg);

    let y = 6;
    this.#box(boxesLayer, 'next', BOX_X - 6, y, BOX_W + 12, 26, ['Linear + softmax']);
    y += 26 + 10;
    this.#box(boxesLayer, 'final', BOX_X, y, BOX_W, 18, ['LayerNorm (final)'], 'norm');
    y += 18 + 14;
    const frameTop = y;
    y += 10;
    const top = {};
    const bottom = {};
    const centre = {};
    for (const [part, ...lines] of slots) {
      const isNorm = part.startsWith('norm');
      const h = isNorm ? 18 : lines.length > 1 ? 36 : 28;
      this.#box(boxesLayer, part, BOX_X, y, BOX_W, h, lines, isNorm ? 'norm' : '');
      top[part] = y;
      bottom[part] = y + h;
      centre[part] = y + h / 2;
      y += h + 11;
    }
    const frameBottom = y + 1;
    node('rect', { x: DEC_X, y: frameTop, width: DEC_W, height: frameBottom - frameTop, rx: 8, class: 'frame' }, wiresLayer);
    const layers = node('text', { x: DEC_X - 6, y: frameTop + 12, 'text-anchor': 'end', class: 'label' }, boxesLayer);
    layers.textContent = `×${config.n_decoder_layers} layers`;

    // The residual connections: the stream goes around each sub-layer and is added back.
    const blocks = hasCross ? ['self', 'cross', 'ffn'] : ['self', 'ffn'];
    blocks.forEach((block, k) => {
      const norm = `norm${k + 1}`;
      const from = (preNorm ? bottom[norm] : bottom[block]) + 5;
      if (preNorm) {
        const add = top[block] - 5.5;
        node('path', { d: `M${MID},${from} H${LANE} V${add} H${MID + 4.5}`, class: 'wire residual', 'marker-end': arrow }, wiresLayer);
        node('circle', { cx: MID, cy: add, r: 4.5, class: 'add' }, boxesLayer);
        const plus = node('text', { x: MID, y: add + 3.2, 'text-anchor': 'middle', class: 'plus' }, boxesLayer);
        plus.textContent = '+';
      } else {
        node('path', { d: `M${MID},${from} H${LANE} V${centre[norm]} H${BOX_X + BOX_W}`, class: 'wire residual', 'marker-end': arrow }, wiresLayer);
      }
    });

    y = frameBottom + 16;
    const embedY = y;
    this.#box(boxesLayer, 'embed', BOX_X - 6, y, BOX_W + 12, 26, ['Embedding + position']);
    y += 26 + 14;
    const fed = node('text', { x: MID, y, 'text-anchor': 'middle', class: 'label mono' }, boxesLayer);
    this.fed = fed;
    this.fedNote = node('text', { x: MID, y: y + 13, 'text-anchor': 'middle', class: 'label fed-note' }, boxesLayer);
    this.hasCross = hasCross;
    this.setFed(queries);

    // The spine: embedding -> layers -> final norm -> linear.
    node('line', { x1: MID, y1: embedY, x2: MID, y2: 6 + 26, class: 'wire', 'marker-end': arrow }, wiresLayer);

    if (this.side) {
      // The encoder, feeding cross-attention; the causal mask, feeding masked self-attention.
      if (hasCross) {
        const encH = 44;
        const encY = centre.cross - encH - 12;
        this.#box(boxesLayer, 'encoder', LEFT_X, encY, LEFT_W, encH, ['Encoder', `×${config.n_encoder_layers} layers`]);
        this.wires.set('cross', node('path', {
          d: `M${LEFT_X + LEFT_W / 2},${encY + encH} V${centre.cross} H${BOX_X}`, class: 'wire', 'marker-end': arrow,
        }, wiresLayer));
      }
      const maskH = 36;
      const maskY = centre.self - maskH / 2;
      this.#box(boxesLayer, 'mask', LEFT_X, maskY, LEFT_W, maskH, ['Causal', 'mask']);
      this.wires.set('mask', node('line', {
        x1: LEFT_X + LEFT_W, y1: centre.self, x2: BOX_X, y2: centre.self, class: 'wire', 'marker-end': arrow,
      }, wiresLayer));
    }

    svg.setAttribute('viewBox', `0 0 ${W} ${y + 18}`);
    if (this.active) this.highlight(this.active);
    this.setMask(this.maskOn);
  }

  /** The causal mask box and its wire: live (on) or greyed and labelled off (teacher forcing without it). */
  setMask(on) {
    this.maskOn = on;
    for (const g of this.boxes.get('mask') ?? []) {
      g.classList.toggle('off', !on);
      g.dataset.state = on ? 'on' : 'off';
      const lines = g.querySelectorAll('tspan.line');
      if (lines.length === 2) lines[1].textContent = on ? 'mask' : 'mask (off)';
    }
    const wire = this.wires.get('mask');
    if (wire) {
      wire.classList.toggle('off', !on);
      wire.dataset.state = on ? 'on' : 'off';
    }
  }

  #box(parent, part, x, y, w, h, lines, extra = '') {
    const clickable = true;  // every box: the attention ones also choose their view
    const g = node('g', { class: `box ${extra} ${clickable ? 'clickable' : ''}`.trim(), 'data-part': part }, parent);
    node('rect', { x, y, width: w, height: h, rx: 6 }, g);
    // One <text>, a line per <tspan>, a space between them: its text is the box's name ("Masked
    // self-attention"), read by screen readers as it is drawn. (The space is a chunk of its own, so that
    // no line is centred with it.)
    const lineHeight = 13;
    const text = node('text', { 'text-anchor': 'middle' }, g);
    lines.forEach((line, k) => {
      const at = { x: x + w / 2, y: y + h / 2 + (k - (lines.length - 1) / 2) * lineHeight + 4 };
      if (k) node('tspan', at, text).textContent = ' ';
      node('tspan', { ...at, class: 'line' }, text).textContent = line;
    });
    if (clickable) {
      g.setAttribute('role', 'button');
      g.setAttribute('tabindex', '0');
      g.addEventListener('click', () => this.onSelect(part));
      g.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          e.stopPropagation();
          this.onSelect(part);
        }
      });
    }
    if (!this.boxes.has(part)) this.boxes.set(part, []);
    this.boxes.get(part).push(g);
    return g;
  }

  /** Shows what the decoder reads at the bottom of the diagram, and in words what that is for the trace. */
  setFed(queries, trace = null) {
    if (this.fed) this.fed.textContent = shorten(queries.length ? queries.join(' ') : '<s> …', 24);
    if (this.fedNote) this.fedNote.textContent = fedCaption(trace, this.hasCross);
  }

  /** Highlights the part that produced the current view ('mask', 'self', 'cross', 'encoder', 'next'). */
  highlight(part) {
    this.active = part;
    for (const [name, groups] of this.boxes) for (const g of groups) g.classList.toggle('active', name === part);
    for (const [name, wire] of this.wires) wire.classList.toggle('active', name === part);
  }
}

function shorten(text, max) {
  return text.length <= max ? text : `… ${text.slice(text.length - max + 2)}`;
}

export function create(root, store) {
  const diagram = new DecoderDiagram(root.querySelector('#diagram'), {
    // The parts that make a matrix choose its view; every box also lights up in "Open the box".
    onSelect: (part) => {
      if (VIEWS.some((v) => v.part === part)) store.actions.setView(part);
      if (part !== 'mask' && part !== 'encoder') store.actions.setInside({ box: part });
      if (part === 'next') document.getElementById('next-panel').scrollIntoView({ block: 'nearest' });
    },
  });
  const explain = root.querySelector('#view-explain');
  const norm = root.querySelector('#norm-note');
  const viewMemo = new Memo();
  const modelMemo = new Memo();
  const fedMemo = new Memo();
  return {
    update(trace, selection) {
      const { view } = selection;
      if (viewMemo.changed(view)) diagram.highlight(VIEWS.find((v) => v.id === view).part);
      const model = store.state.model;
      if (!model) return;
      if (modelMemo.changed(model)) {
        diagram.build(model.config);
        fedMemo.reset();
        setText(norm, (model.config.norm_first
          ? 'Pre-norm, as most models since: x + Sublayer(LayerNorm(x)). The paper normalises after the residual sum.'
          : 'Post-norm, as in the paper: LayerNorm(x + Sublayer(x)).') + (model.encoderDecoder ? '' : ` ${NO_ENCODER_NOTE}`));
      }
      if (fedMemo.changed(trace, trace?.stepMs.length)) {
        diagram.setFed(trace?.queries ?? [], trace);
        diagram.setMask(!trace || trace.causal);
      }
      setText(explain, viewExplanation(view, trace, { maskOrder: selection.maskOrder }));
    },
  };
}

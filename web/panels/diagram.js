// The block panel beside the matrix: the decoder block as a small SVG diagram (after Figure 1 of Vaswani
// et al.), drawn from the model's configuration (post-norm as in the paper, or pre-norm), with the part
// that produced the current view highlighted (clicking a part selects its view); under it, what the view
// shows (web/views.js) and how the model normalises.
import { VIEWS, viewExplanation } from '../views.js';
import { Memo, setText } from './util.js';

const SVG = 'http://www.w3.org/2000/svg';

function node(tag, attributes = {}, parent = null) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) n.setAttribute(k, String(v));
  parent?.appendChild(n);
  return n;
}

const W = 220;
const DEC_X = 86;
const DEC_W = 130;
const MID = DEC_X + DEC_W / 2;
const LEFT_X = 4;
const LEFT_W = 66;

class DecoderDiagram {
  constructor(svg, { onSelect }) {
    this.svg = svg;
    this.onSelect = onSelect;
    this.boxes = new Map();  // part -> <g>
    this.wires = new Map();
    this.active = null;
  }

  /** Draws the diagram for a model configuration. */
  build(config, queries = []) {
    const svg = this.svg;
    svg.replaceChildren();
    this.boxes.clear();
    this.wires.clear();
    const defs = node('defs', {}, svg);
    const marker = node('marker', { id: 'arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, defs);
    node('path', { d: 'M0,0 L8,4 L0,8 z', class: 'arrowhead' }, marker);

    // Slots inside the repeated layer, top to bottom.
    const preNorm = Boolean(config.norm_first);
    const slots = preNorm
      ? [['ffn', 'Feed-forward'], ['norm', 'LayerNorm'], ['cross', 'Cross-attention'], ['norm', 'LayerNorm'], ['self', 'Masked', 'self-attention'], ['norm', 'LayerNorm']]
      : [['norm', 'Add & Norm'], ['ffn', 'Feed-forward'], ['norm', 'Add & Norm'], ['cross', 'Cross-attention'], ['norm', 'Add & Norm'], ['self', 'Masked', 'self-attention']];
    const wiresLayer = node('g', {}, svg);
    const boxesLayer = node('g', {}, svg);

    let y = 6;
    this.#box(boxesLayer, 'next', DEC_X, y, DEC_W, 26, ['Linear + softmax'], true);
    y += 26 + 16;
    const frameTop = y;
    y += 10;
    const centre = {};
    for (const [part, ...lines] of slots) {
      const h = part === 'norm' ? 18 : lines.length > 1 ? 36 : 28;
      const clickable = part === 'self' || part === 'cross';
      this.#box(boxesLayer, part, DEC_X + 8, y, DEC_W - 16, h, lines, clickable, part === 'norm' ? 'norm' : '');
      centre[part] = y + h / 2;
      y += h + 9;
    }
    const frameBottom = y + 1;
    node('rect', { x: DEC_X, y: frameTop, width: DEC_W, height: frameBottom - frameTop, rx: 8, class: 'frame' }, wiresLayer);
    const layers = node('text', { x: DEC_X - 6, y: frameTop + 12, 'text-anchor': 'end', class: 'label' }, boxesLayer);
    layers.textContent = `×${config.n_decoder_layers} layers`;
    y = frameBottom + 16;
    const embedY = y;
    this.#box(boxesLayer, 'embed', DEC_X, y, DEC_W, 26, ['Embedding + position'], false);
    y += 26 + 14;
    const fed = node('text', { x: MID, y, 'text-anchor': 'middle', class: 'label mono' }, boxesLayer);
    this.fed = fed;
    this.setFed(queries);
    const fedNote = node('text', { x: MID, y: y + 13, 'text-anchor': 'middle', class: 'label' }, boxesLayer);
    fedNote.textContent = 'its own output so far';

    // The spine: embedding -> layers -> linear.
    node('line', { x1: MID, y1: embedY, x2: MID, y2: 6 + 26, class: 'wire', 'marker-end': 'url(#arrow)' }, wiresLayer);

    // The encoder, feeding cross-attention; the causal mask, feeding masked self-attention.
    const encH = 44;
    const encY = centre.cross - encH - 12;
    this.#box(boxesLayer, 'encoder', LEFT_X, encY, LEFT_W, encH, ['Encoder', `×${config.n_encoder_layers} layers`], true);
    this.wires.set('cross', node('path', {
      d: `M${LEFT_X + LEFT_W / 2},${encY + encH} V${centre.cross} H${DEC_X + 8}`, class: 'wire', 'marker-end': 'url(#arrow)',
    }, wiresLayer));
    const maskH = 36;
    const maskY = centre.self - maskH / 2;
    this.#box(boxesLayer, 'mask', LEFT_X, maskY, LEFT_W, maskH, ['Causal', 'mask'], true);
    this.wires.set('mask', node('line', {
      x1: LEFT_X + LEFT_W, y1: centre.self, x2: DEC_X + 8, y2: centre.self, class: 'wire', 'marker-end': 'url(#arrow)',
    }, wiresLayer));

    svg.setAttribute('viewBox', `0 0 ${W} ${y + 18}`);
    if (this.active) this.highlight(this.active);
  }

  #box(parent, part, x, y, w, h, lines, clickable, extra = '') {
    const g = node('g', { class: `box ${extra} ${clickable ? 'clickable' : ''}`.trim(), 'data-part': part }, parent);
    node('rect', { x, y, width: w, height: h, rx: 6 }, g);
    const lineHeight = 13;
    lines.forEach((line, k) => {
      const t = node('text', {
        x: x + w / 2,
        y: y + h / 2 + (k - (lines.length - 1) / 2) * lineHeight + 4,
        'text-anchor': 'middle',
      }, g);
      t.textContent = line;
    });
    if (clickable) {
      g.setAttribute('role', 'button');
      g.setAttribute('tabindex', '0');
      g.setAttribute('aria-label', lines.join(' '));
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

  /** Shows what the decoder reads at the bottom of the diagram: <s> and its own output so far. */
  setFed(queries) {
    if (this.fed) this.fed.textContent = shorten(queries.length ? queries.join(' ') : '<s> …', 24);
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
    onSelect: (part) => (part === 'next'
      ? document.getElementById('next-panel').scrollIntoView({ block: 'nearest' })
      : store.actions.setView(part)),
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
        setText(norm, model.config.norm_first
          ? 'Pre-norm, as most models since: x + Sublayer(LayerNorm(x)). The paper normalises after the residual sum.'
          : 'Post-norm, as in the paper: LayerNorm(x + Sublayer(x)).');
      }
      if (fedMemo.changed(trace, trace?.stepMs.length)) diagram.setFed(trace?.queries ?? []);
      setText(explain, viewExplanation(view, trace));
    },
  };
}

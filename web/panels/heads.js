// Every layer and head of the view at a glance: one thumbnail per head and a column of layer means; click
// one to enlarge it. The buttons and their canvases are made once per model and view kind and redrawn in
// place when the trace, the row or the width changes.
import { Heatmap } from '../heatmap.js';
import { el } from '../tooltip.js';
import { headName } from '../views.js';
import { MATRICES } from './matrix.js';
import { Memo, plural, setAttribute, setText } from './util.js';

export function create(root, store) {
  const title = root.querySelector('#heads-title');
  const note = root.querySelector('.panel-note');
  const grid = root.querySelector('#head-grid');
  // The grid's width, as the layout last left it (see panels/matrix.js); a change draws again.
  let gridWidth = -1;
  new ResizeObserver(() => {
    const now = grid.clientWidth;
    if (now === gridWidth) return;
    gridWidth = now;
    if (store.state.model) requestAnimationFrame(() => store.render());
  }).observe(grid);
  const structureMemo = new Memo();
  const pressedMemo = new Memo();
  const drawMemo = new Memo();
  let thumbs = [];  // { button, map, layer, head }

  function build(layers, heads) {
    grid.style.gridTemplateColumns = `28px repeat(${heads + 1}, minmax(0, 1fr))`;
    thumbs = [];
    const nodes = [el('span', {})];
    for (let h = 0; h < heads; h++) nodes.push(el('span', { class: 'axis' }, `H${h + 1}`));
    nodes.push(el('span', { class: 'axis' }, 'mean'));
    for (let l = 0; l < layers; l++) {
      nodes.push(el('span', { class: 'axis row' }, `L${l + 1}`));
      for (const h of [...Array(heads).keys(), 'mean']) {
        const canvas = el('canvas');
        const name = `layer ${l + 1}, ${headName(h, heads)}`;
        const button = el('button', { type: 'button', class: 'thumb', 'aria-pressed': 'false', 'aria-label': name, title: name }, canvas);
        button.addEventListener('click', () => store.actions.selectHead(store.state.view, l, h));
        nodes.push(button);
        thumbs.push({ button, map: new Heatmap(canvas, { thumbnail: true }), layer: l, head: h });
      }
    }
    grid.replaceChildren(...nodes);
  }

  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!model) return;
      const c = model.config;
      const { view } = selection;
      const layers = MATRICES[view].layers(c);
      if (!layers || !trace) {
        setText(title, view === 'mask' ? 'Every layer and head' : 'Layers and heads');
        setText(note, view === 'mask'
          ? (trace && trace.causal === false ? `The mask is off: nothing is added in any of the ${c.n_decoder_layers} decoder layers and ${c.n_heads} heads of self-attention.`
            : `The same mask serves all ${c.n_decoder_layers} decoder layers and ${c.n_heads} heads of masked self-attention.`)
          : '');
        if (structureMemo.changed(null)) {
          grid.replaceChildren();
          thumbs = [];
        }
        return;
      }
      const heads = c.n_heads;
      setText(title, `${plural(layers, 'layer')} × ${plural(heads, 'head')}`);
      setText(note, 'Each thumbnail is one head; the last column averages them. Click one to enlarge it.');
      if (structureMemo.changed(model, layers, heads)) {
        build(layers, heads);
        pressedMemo.reset();
        drawMemo.reset();
      }
      if (pressedMemo.changed(view, selection.layer, selection.head)) {
        for (const { button, layer, head } of thumbs) setAttribute(button, 'aria-pressed', String(selection.layer === layer && selection.head === head));
      }
      if (gridWidth < 0) gridWidth = grid.clientWidth;  // before the first observation
      const columnWidth = Math.max(16, (gridWidth - 28 - 6 * (heads + 1)) / (heads + 1));
      const size = Math.floor(columnWidth - 6);
      const row = MATRICES[view].rowsAreDecoderPositions ? selection.row : -1;
      if (!drawMemo.changed(trace, trace.stepMs.length, view, row, size, window.devicePixelRatio)) return;
      for (const { map, layer, head } of thumbs) {
        const data = MATRICES[view].matrix(trace, { layer, head });
        if (data.rows.length) map.draw({ ...data, highlightRow: row }, size);
        else map.reserve(size);  // (step 0: blank, the canvas sized now for the first step to draw on)
      }
    },
  };
}

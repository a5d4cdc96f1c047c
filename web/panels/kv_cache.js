// The KV cache, visible: for the layer chosen (store.state.inside.layer), the self-attention keys and
// values as matrices that grow one row per step (this step's new row outlined, and as a strip of exact
// numbers) -- cache.key / cache.value of run.inside() -- beside the cross-attention keys and values,
// computed once from the encoder (cross_cache.*); and what the cache saves, in multiply-adds per step,
// from the model's sizes (web/inside_texts.js KV_FORMULA, stepCost).
import { BEAM_NOTE, DECODER_ONLY_NOTE, KV_FORMULA, KV_NOTE, NO_STEP_NOTE, stepCost } from '../inside_texts.js';
import { el } from '../tooltip.js';
import { h, patch } from './patch.js';
import { Memo, setProperty, setText, viewportWidth } from './util.js';
import { hoverTips, MatrixCanvas, strip } from './vectors.js';

// (made once, when first needed: toLocaleString('en-US') builds one per call, and the first one made costs the
// page's start-up ~5 ms of ICU)
let GROUPED = null;
const grouped = (n) => (GROUPED ??= new Intl.NumberFormat('en-US')).format(n);

export function create(root, store) {
  const title = root.querySelector('#kv-title');
  const note = root.querySelector('#kv-note');
  const mats = root.querySelector('#kv-matrices');
  const newRow = root.querySelector('#kv-new');
  const cost = root.querySelector('#kv-cost');
  const formula = root.querySelector('#kv-formula');
  hoverTips(newRow);
  const canvases = {};
  const figure = (id, label) => {
    const canvas = el('canvas', { id: `kv-${id}`, role: 'img' });
    const caption = el('figcaption', {}, label);
    const f = el('figure', { class: `kv-matrix kv-${id}` }, caption, el('div', { class: 'kv-scroll', tabindex: '0' }, canvas));
    canvases[id] = { map: new MatrixCanvas(canvas, label), figure: f, caption };
    return f;
  };
  mats.append(figure('key', 'cache.key'), figure('value', 'cache.value'), figure('cross-key', 'cross_cache.key'), figure('cross-value', 'cross_cache.value'));
  // The matrices' width: the card's content box, as the layout last left it (read by a ResizeObserver, so
  // that drawing reads no layout in the middle of a step). The card's own box, not the matrices': while
  // the card is off screen the browser skips laying out what is inside it (style.css, content-visibility).
  const contentWidth = () => {
    const style = getComputedStyle(root);
    return root.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  };
  let width = -1;
  new ResizeObserver(() => {
    const now = contentWidth();
    if (now === width) return;
    width = now;
    if (store.state.model) requestAnimationFrame(() => store.render());
  }).observe(root);
  const memo = new Memo();
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!model) return;
      const c = model.config;
      const { layer } = store.state.inside;
      setText(title, `The KV cache · layer ${layer + 1}`);
      const row = selection.row;
      const record = trace?.inside?.[row] ?? null;
      if (width < 0) width = contentWidth();  // before the first observation
      if (!memo.changed(trace, trace?.inside?.length, row, layer, model, width)) return;
      const S = trace?.input.length ?? 0;
      drawCost(cost, c, trace ? Math.max(trace.queries.length, 1) : 0, row, S);
      setText(formula, KV_FORMULA({ cross: model.encoderDecoder }));
      const notes = [];
      if (!record) notes.push(trace?.strategy === 'beam' ? BEAM_NOTE : NO_STEP_NOTE);
      else if (record.teacherForced) notes.push(trace.causal === false ? KV_NOTE.teacherOpen : KV_NOTE.teacher);
      else if (model.encoderDecoder) notes.push(KV_NOTE.steps);
      else notes.push(trace.promptRows > 0 ? KV_NOTE.stepsPrompt(trace.promptRows + 1) : KV_NOTE.stepsDecoderOnly);
      if (!model.encoderDecoder && (!record || record.teacherForced)) notes.push(DECODER_ONLY_NOTE);
      setText(note, notes.join(' '));
      setProperty(mats, 'hidden', !record);
      if (!record) {
        patch(newRow, []);
        return;
      }
      const L = record.layers[layer];
      const d = c.d_model;
      const labels = trace.queries.slice(0, L.cache.rows);
      const marked = record.teacherForced ? -1 : L.cache.rows - 1;
      // two matrices side by side, or one per line on a narrow screen (style.css)
      const half = viewportWidth() <= 640 ? width : Math.max(160, Math.floor((width - 24) / 2));
      setText(canvases.key.caption, record.teacherForced ? `keys: self_attention.key [${L.cache.rows} × ${d}]` : `cache.key [${L.cache.rows} × ${d}]`);
      setText(canvases.value.caption, record.teacherForced ? `values: self_attention.value [${L.cache.rows} × ${d}]` : `cache.value [${L.cache.rows} × ${d}]`);
      canvases.key.map.draw({ data: L.cache.key, rows: L.cache.rows, cols: d, labels, marked }, half);
      canvases.value.map.draw({ data: L.cache.value, rows: L.cache.rows, cols: d, labels, marked }, half);
      const shared = trace.insideShared?.cross?.[layer];
      for (const id of ['cross-key', 'cross-value']) setProperty(canvases[id].figure, 'hidden', !shared);
      if (shared) {
        setText(canvases['cross-key'].caption, `cross_cache.key [${shared.rows} × ${d}]: made once, from the encoder`);
        setText(canvases['cross-value'].caption, `cross_cache.value [${shared.rows} × ${d}]`);
        canvases['cross-key'].map.draw({ data: shared.key, rows: shared.rows, cols: d, labels: trace.input }, half);
        canvases['cross-value'].map.draw({ data: shared.value, rows: shared.rows, cols: d, labels: trace.input }, half);
      }
      if (record.teacherForced) {
        patch(newRow, []);
        return;
      }
      const p = L.cache.rows - 1;
      patch(newRow, [
        h('div', { class: 'vector', 'data-name': 'new-key' }, h('div', { class: 'vector-caption' }, `this step's new key row, position ${p} (${labels[p]}): cache.key[${p}]`),
          strip(L.cache.key.slice(p * d, (p + 1) * d), { name: `cache.key[${p}]` })),
        h('div', { class: 'vector', 'data-name': 'new-value' }, h('div', { class: 'vector-caption' }, `its new value row: cache.value[${p}]`),
          strip(L.cache.value.slice(p * d, (p + 1) * d), { name: `cache.value[${p}]` }))]);
    },
  };
}

// Multiply-adds per step, with the cache and recomputing the prefix, for positions 0 .. n-1.
function drawCost(table, c, n, row, S) {
  const head = h('tr', {}, h('th', {}, 'position'), h('th', {}, 'with the cache'), h('th', {}, 'recomputing the prefix'), h('th', {}, 'saved'));
  const rows = [head];
  let total = 0;
  for (let p = 0; p < n; p++) {
    const cached = stepCost(c, p, S);
    total += cached;
    rows.push(h('tr', { class: p === row ? 'current' : '', 'data-position': String(p), 'data-cached': String(cached), 'data-recompute': String(total) },
      h('td', {}, String(p)), h('td', {}, grouped(cached)), h('td', {}, grouped(total)), h('td', {}, `${(total / cached).toFixed(1)}×`)));
  }
  patch(table, rows);
}

// Vectors and small matrices as rows of coloured cells, shared by the "Open the box" panels
// (inside_head.js, residual.js, kv_cache.js). Every cell carries its exact value in data-value (the
// float32 the engine wrote, as JavaScript prints it) and a data-tip naming it; hoverTips() shows both in
// the page's tooltip. Colours: viridis over [−m, m] for signed numbers (m: the largest |x| shown, so 0 is
// the middle), over [0, 1] for attention weights.
import { viridisCss, inkOn } from '../colormap.js';
import { el, showTooltip, hideTooltip } from '../tooltip.js';
import { fmt } from './util.js';

const maxAbs = (values) => {
  let m = 0;
  for (const x of values) if (Number.isFinite(x)) m = Math.max(m, Math.abs(x));
  return m || 1;
};

function shade(x, scale, weights) {
  if (x === -Infinity) return null;
  return weights ? x : (x / scale + 1) / 2;
}

/**
 * A strip of d cells, no numbers: { values, name (for the tooltip), from, to (a range to outline),
 * scale (the m of the colours; default the strip's own) }.
 */
export function strip(values, { name, from = -1, to = -1, scale = maxAbs(values), className = '' } = {}) {
  const cells = [];
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    const cell = el('span', { class: `cell${i >= from && i < to ? ' lit' : ''}`, 'data-value': String(x), 'data-tip': `${name}[${i}]` });
    cell.style.background = viridisCss(shade(x, scale, false));
    cells.push(cell);
  }
  return el('div', { class: `strip ${className}`.trim(), role: 'img', 'aria-label': `${name}: ${values.length} numbers` }, cells);
}

/**
 * Numbers in labelled cells, one per key: { values, labels, name, weights (colour as attention weights,
 * 0..1), masked cells (−∞) hatched }.
 */
export function numberCells(values, { labels, name, weights = false }) {
  const scale = maxAbs(values);
  const cells = Array.from(values, (x, j) => {
    const t = shade(x, scale, weights);
    const cell = el('span', {
      class: `num${x === -Infinity ? ' masked' : ''}`,
      'data-value': String(x),
      'data-tip': `${name}[${j}] (${labels[j]})`,
    }, x === -Infinity ? '−∞' : fmt(x).replace(/(\.\d{3})\d+/, '$1'));
    if (t !== null) {
      cell.style.background = viridisCss(t);
      cell.style.color = inkOn(t);
    }
    return el('span', { class: 'num-col' }, cell, el('span', { class: 'num-label mono' }, labels[j]));
  });
  return el('div', { class: 'numbers', 'data-name': name }, cells);
}

/** Rows of strips with a label each: a matrix [rows, cols] (row-major `data`), columns from..to. */
export function matrixRows(data, { rows, cols, from = 0, to = cols, labels, name, marked = -1 }) {
  const scale = maxAbs(data.subarray ? data.subarray(0, rows * cols) : data);
  const lines = [];
  for (let r = 0; r < rows; r++) {
    const row = data.slice(r * cols + from, r * cols + to);
    const s = strip(row, { name: `${name}[${r}]`, scale });
    // the tooltip's column index counts from the start of the full row
    if (from) for (const [i, cell] of [...s.children].entries()) cell.dataset.tip = `${name}[${r}][${from + i}]`;
    lines.push(el('div', { class: `matrix-row${r === marked ? ' marked' : ''}` }, el('span', { class: 'row-label mono' }, labels[r] ?? String(r)), s));
  }
  return el('div', { class: 'matrix-rows', 'data-name': name }, lines);
}

/** The tooltip for every cell under `root` that has a data-value. */
export function hoverTips(root) {
  const show = (e) => {
    const cell = e.target.closest?.('[data-value]');
    if (!cell || !root.contains(cell)) return;
    const x = Number(cell.dataset.value);
    showTooltip([
      [el('span', { class: 'dim' }, cell.dataset.tip ?? '')],
      [el('strong', { class: 'mono' }, x === -Infinity ? '−∞' : String(x))],
    ], e.clientX, e.clientY);
  };
  root.addEventListener('mousemove', show);
  root.addEventListener('click', show);  // touch screens
  root.addEventListener('mouseleave', hideTooltip);
}

/** ‖x‖₂ of a vector the engine recorded (display arithmetic). */
export function norm(values) {
  let s = 0;
  for (const x of values) s += x * x;
  return Math.sqrt(s);
}

/**
 * A matrix [rows, cols] (row-major) on a canvas: one small cell per number in viridis over [−m, m], the
 * row labels on the left, one row outlined (`marked`); hover shows the exact value.
 */
export class MatrixCanvas {
  constructor(canvas, name) {
    this.canvas = canvas;
    this.name = name;
    this.spec = null;
    canvas.addEventListener('mousemove', (e) => this.#hover(e));
    canvas.addEventListener('click', (e) => this.#hover(e));
    canvas.addEventListener('mouseleave', hideTooltip);
  }

  draw({ data, rows, cols, labels, marked = -1 }, width) {
    const labelW = 44;
    const cw = Math.max(1, Math.min(6, Math.floor((width - labelW) / cols)));
    const ch = Math.max(10, Math.min(12, cw * 2));
    const W = labelW + cw * cols;
    const H = ch * rows + 2;
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    const canvas = this.canvas;
    canvas.style.width = `${W}px`;
    canvas.style.height = `${H}px`;
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(H * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const m = maxAbs(data.subarray(0, rows * cols));
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) {
        ctx.fillStyle = viridisCss((data[r * cols + j] / m + 1) / 2);
        ctx.fillRect(labelW + j * cw, 1 + r * ch, cw, ch);
      }
      ctx.fillStyle = r === marked ? '#d9480f' : '#4a5160';
      ctx.font = `${Math.min(11, ch)}px ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace`;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(String(labels[r] ?? r).slice(0, 6), labelW - 4, 1 + r * ch + ch / 2);
    }
    if (marked >= 0 && marked < rows) {
      ctx.strokeStyle = '#d9480f';
      ctx.lineWidth = 2;
      ctx.strokeRect(labelW - 1, marked * ch + 1, cw * cols + 1, ch);
    }
    this.spec = { data, rows, cols, labels, labelW, cw, ch };
    canvas.setAttribute('aria-label', `${this.name}: ${rows} rows × ${cols}`);
  }

  #hover(e) {
    const s = this.spec;
    if (!s) return;
    const box = this.canvas.getBoundingClientRect();
    const j = Math.floor((e.clientX - box.left - s.labelW) / s.cw);
    const r = Math.floor((e.clientY - box.top - 1) / s.ch);
    if (j < 0 || j >= s.cols || r < 0 || r >= s.rows) {
      hideTooltip();
      return;
    }
    showTooltip([
      [el('span', { class: 'dim' }, `${this.name}[${r}][${j}] (${s.labels[r]})`)],
      [el('strong', { class: 'mono' }, String(s.data[r * s.cols + j]))],
    ], e.clientX, e.clientY);
  }
}

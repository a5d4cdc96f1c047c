// Vectors and small matrices as rows of coloured cells, shared by the "Open the box" panels
// (inside_head.js, residual.js, kv_cache.js), as descriptions that patch.js patch() applies. Every cell
// carries its exact value in data-value (the float32 the engine wrote, as JavaScript prints it) and is
// named by its data-tip (a strip's cells: by the strip's data-tip-name and their index); hoverTips() shows
// both in the page's tooltip. Colours: viridis over [−m, m] for signed numbers (m: the largest |x| shown,
// so 0 is the middle), over [0, 1] for attention weights.
import { inkOn, viridis, VIRIDIS } from '../colormap.js';
import { drawCells, drawText, pixelRatio, setCanvasSize } from '../canvas.js';
import { el, showTooltip, hideTooltip } from '../tooltip.js';
import { h } from './patch.js';
import { Memo, fmt } from './util.js';

const maxAbs = (values) => {
  let m = 0;
  for (const x of values) if (Number.isFinite(x)) m = Math.max(m, Math.abs(x));
  return m || 1;
};

// The cells' colours as 256 classes (.viridis-0 ... .viridis-255: the colour and the ink that reads on
// it), made once in a style sheet of their own through the CSSOM (the page's Content-Security-Policy
// refuses inline styles, not CSSOM rules). A step that recolours a cell changes its class: the browser
// restyles a classed cell from a cache, where a cell with its own inline colour is restyled from scratch.
let colourSheet = null;
export function colourClass(t) {
  if (!colourSheet) {
    colourSheet = new CSSStyleSheet();
    VIRIDIS.forEach(([r, g, b], k) => colourSheet.insertRule(`.viridis-${k} { background-color: rgb(${r}, ${g}, ${b}); color: ${inkOn(k / 255)}; }`, k));
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, colourSheet];
  }
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  return `viridis-${Math.round(x * 255)}`;
}

function shade(x, scale, weights) {
  if (x === -Infinity) return null;
  return weights ? x : (x / scale + 1) / 2;
}

/**
 * A strip of d cells, no numbers: { values, name (for the tooltip), from, to (a range to outline),
 * scale (the m of the colours; default the strip's own) }. A description (patch.js h()), for patch().
 */
export function strip(values, { name, from = -1, to = -1, scale = maxAbs(values), className = '', tipOffset = 0 } = {}) {
  const cells = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    cells[i] = h('span', { class: `cell ${colourClass(shade(x, scale, false))}${i >= from && i < to ? ' lit' : ''}`, 'data-value': String(x) });
  }
  // (a cell's tooltip names it from the strip's name and its place: a new name writes one attribute, not d)
  return h('div', { class: `strip ${className}`.trim(), role: 'img', 'aria-label': `${name}: ${values.length} numbers`, 'data-tip-name': name,
    'data-tip-offset': tipOffset ? String(tipOffset) : null }, cells);
}

/**
 * Numbers in labelled cells, one per key: { values, labels, name, weights (colour as attention weights,
 * 0..1), masked cells (−∞) hatched }. A description, for patch().
 */
export function numberCells(values, { labels, name, weights = false }) {
  const scale = maxAbs(values);
  const cells = Array.from(values, (x, j) => {
    const t = shade(x, scale, weights);
    const cell = h('span', {
      class: `num ${t === null ? 'masked' : colourClass(t)}`,
      'data-value': String(x),
      'data-tip': `${name}[${j}] (${labels[j]})`,
    }, x === -Infinity ? '−∞' : x === 0 || Math.abs(x) < 0.001 ? fmt(x) : x.toFixed(3));  // (rounded, as the tooltips are)
    return h('span', { class: 'num-col' }, cell, h('span', { class: 'num-label mono' }, labels[j]));
  });
  return h('div', { class: 'numbers', 'data-name': name }, cells);
}

/** Rows of strips with a label each: a matrix [rows, cols] (row-major `data`), columns from..to. A description. */
export function matrixRows(data, { rows, cols, from = 0, to = cols, labels, name, marked = -1 }) {
  const scale = maxAbs(data.subarray ? data.subarray(0, rows * cols) : data);
  const lines = [];
  for (let r = 0; r < rows; r++) {
    const row = data.slice(r * cols + from, r * cols + to);
    // the tooltip's column index counts from the start of the full row
    const s = strip(row, { name: `${name}[${r}]`, scale, tipOffset: from });
    lines.push(h('div', { class: `matrix-row${r === marked ? ' marked' : ''}` }, h('span', { class: 'row-label mono' }, labels[r] ?? String(r)), s));
  }
  return h('div', { class: 'matrix-rows', 'data-name': name }, lines);
}

/** What a cell's tooltip calls it: its data-tip, else (a strip's cell) the strip's name and the cell's index. */
function tipOf(cell) {
  if (cell.dataset.tip !== undefined) return cell.dataset.tip;
  const strip = cell.parentElement;
  if (strip?.dataset.tipName === undefined) return '';
  const index = Array.prototype.indexOf.call(strip.children, cell) + Number(strip.dataset.tipOffset ?? 0);
  return `${strip.dataset.tipName}[${index}]`;
}

/** The tooltip for every cell under `root` that has a data-value. */
export function hoverTips(root) {
  const show = (e) => {
    const cell = e.target.closest?.('[data-value]');
    if (!cell || !root.contains(cell)) return;
    const x = Number(cell.dataset.value);
    showTooltip([
      [el('span', { class: 'dim' }, tipOf(cell))],
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
  #memo;

  constructor(canvas, name) {
    this.canvas = canvas;
    this.name = name;
    this.spec = null;
    this.#memo = new Memo();
    canvas.addEventListener('mousemove', (e) => this.#hover(e));
    canvas.addEventListener('click', (e) => this.#hover(e));
    canvas.addEventListener('mouseleave', hideTooltip);
  }

  /** Draws the matrix; the same arguments as the last draw (the same `data` array) draw nothing. */
  draw({ data, rows, cols, labels, marked = -1 }, width) {
    const labelW = 44;
    const cw = Math.max(1, Math.min(6, Math.floor((width - labelW) / cols)));
    const ch = Math.max(10, Math.min(12, cw * 2));
    const W = labelW + cw * cols;
    const H = ch * rows + 2;
    const dpr = pixelRatio();
    const labelText = Array.from({ length: rows }, (_, r) => String(labels[r] ?? r).slice(0, 6));
    if (!this.#memo.changed(data, rows, cols, labelText.join('\n'), marked, W, dpr)) return;
    const canvas = this.canvas;
    const backingHeight = setCanvasSize(canvas, W, H, dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, backingHeight);
    // The cells: one pixel per number, scaled up without smoothing into cw x ch blocks (what a fillRect
    // per cell drew, in one call).
    const m = maxAbs(data.subarray(0, rows * cols));
    drawCells(ctx, cols, rows, (k) => viridis((data[k] / m + 1) / 2), labelW, 1, cw, ch);
    // the row labels, drawn off the page (text drawn here would make the browser restyle the page first)
    drawText(ctx, 0, 0, labelW, H, dpr, (t) => {
      t.font = `${Math.min(11, ch)}px ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace`;
      t.direction = 'ltr';
      t.textAlign = 'right';
      t.textBaseline = 'middle';
      for (let r = 0; r < rows; r++) {
        t.fillStyle = r === marked ? '#d9480f' : '#4a5160';
        t.fillText(labelText[r], labelW - 4, 1 + r * ch + ch / 2);
      }
    });
    if (marked >= 0 && marked < rows) {
      ctx.strokeStyle = '#d9480f';
      ctx.lineWidth = 2;
      ctx.strokeRect(labelW - 1, marked * ch + 1, cw * cols + 1, ch);
    }
    this.spec = { data, rows, cols, labels, labelW, cw, ch };
    // (what a screen reader reads of the picture: its size and whose rows they are)
    const positions = Array.from({ length: rows }, (_, r) => String(labels[r] ?? r)).join(', ');
    canvas.setAttribute('aria-label', `${this.name}: ${rows} rows × ${cols} numbers, one row per position (${positions})`);
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

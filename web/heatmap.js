// A heatmap on a canvas: rows x columns of weights in viridis, with the actual tokens on the axes, masked
// (-inf) cells hatched, one row outlined, and hit-testing for hover and click. Drawn by the enlarged matrix
// (web/panels/matrix.js) and the thumbnails (web/panels/heads.js). A canvas keeps its backing store while
// it is large enough (web/canvas.js), so a step that adds a row redraws on the same one.
//
//   const map = new Heatmap(canvas, { onHover, onLeave, onClickRow });
//   map.draw({ rows, rowLabels, colLabels, masked: (i, j) => j > i, highlightRow, latestRow, ... }, width);
import { viridis } from './colormap.js';
import { hatchPattern, hatchTile, pixelRatio, setCanvasSize, setExactSize, viridisStyle } from './canvas.js';

const MONO = '"SF Mono", ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace';
const SANS = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
const INK = '#1d2129';
const MUTED = '#6b7280';
const ACCENT = '#d9480f';
// canvas -> the Heatmap drawing on it (heatmapOn): what the guided tour asks where a cell is
const drawnOn = new WeakMap();

/** The Heatmap that draws on `canvas`, or null. */
export const heatmapOn = (canvas) => drawnOn.get(canvas) ?? null;

// Masked cells are hatched (canvas.js hatchPattern): light for attention maps, dark for the mask itself.
const HATCH_WEIGHTS = ['#eceef2', '#cfd3da'];
const HATCH_MASK = ['#3a3f4b', '#596070'];
const MASK_OPEN = [0xee, 0xf6, 0xf1];  // #eef6f1, a mask cell that lets attention through
// An opaque colour as one 32-bit pixel of ImageData (RGBA in memory: on a little-endian machine, A B G R).
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const packed = ([r, g, b]) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0;

export class Heatmap {
  constructor(canvas, { thumbnail = false, onHover = null, onLeave = null, onClickRow = null } = {}) {
    this.canvas = canvas;
    this.thumbnail = thumbnail;
    this.spec = null;
    this.layout = null;
    this.hover = null;
    drawnOn.set(canvas, this);
    if (!thumbnail) {
      canvas.addEventListener('mousemove', (e) => this.#pointer(e, onHover, onLeave));
      canvas.addEventListener('mouseleave', () => this.#leave(onLeave));
      canvas.addEventListener('click', (e) => {
        const cell = this.cellAt(e);
        if (cell) {
          onHover?.(cell, e.clientX, e.clientY);
          onClickRow?.(cell.i);
        }
      });
    }
  }

  /**
   * spec: { rows: ArrayLike<number>[], nCols, rowLabels, colLabels, rowNotes?, masked(i, j), kind:
   * 'weights' | 'mask', highlightRow, latestRow, rowAxis, colAxis }. width: CSS pixels available.
   */
  draw(spec, width, { maxHeight = 560 } = {}) {
    this.spec = spec;
    this.lastArgs = [spec, width, { maxHeight }];
    const canvas = this.canvas;
    const dpr = pixelRatio();
    const ctx = canvas.getContext('2d');
    const nRows = spec.rows.length;
    const nCols = spec.nCols;
    let L;
    if (this.thumbnail) {
      const cell = Math.max(1, Math.floor(width / Math.max(nRows, nCols, 1)));
      L = { left: 0, top: 0, cell, gap: cell >= 6 ? 1 : 0, width, height: width, right: 0 };
      L.x0 = Math.floor((width - cell * nCols) / 2);
      L.y0 = Math.floor((width - cell * nRows) / 2);
    } else {
      ctx.font = `12px ${MONO}`;
      const labelWidth = (labels) => Math.max(0, ...labels.map((s) => ctx.measureText(s).width));
      const rowLabelW = labelWidth(spec.rowLabels);
      const colLabelW = labelWidth(spec.colLabels);
      const noteW = spec.rowNotes ? labelWidth(spec.rowNotes) + 14 : 0;
      const left = Math.ceil(rowLabelW) + 22;
      const right = Math.ceil(noteW) + 4;
      const fit = Math.floor((width - left - right) / Math.max(1, nCols));
      let cell = Math.max(16, Math.min(42, fit));
      const rotate = colLabelW + 6 > cell;
      const top = Math.ceil(rotate ? colLabelW * 0.72 + 22 : 34);
      cell = Math.max(16, Math.min(cell, Math.floor((maxHeight - top - 8) / Math.max(1, nRows))));
      L = { left, top, right, cell, gap: 1, rotate };
      L.x0 = left;
      L.y0 = top;
      L.width = Math.max(width, left + cell * nCols + right);
      L.height = top + cell * Math.max(nRows, 1) + 8;
    }
    L.dpr = dpr;
    this.layout = L;
    // The same backing store while it is large enough (canvas.js); a thumbnail's size never changes.
    let backingHeight = L.height;
    if (this.thumbnail) setExactSize(canvas, L.width, L.height, dpr);
    else backingHeight = setCanvasSize(canvas, L.width, L.height, dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, L.width, backingHeight);
    this.#cells(ctx, L);
    if (!this.thumbnail) this.#labels(ctx, L);
    this.#rowOutline(ctx, L);
    if (this.hover) this.#cellOutline(ctx, L, this.hover.i, this.hover.j);
  }

  /**
   * A thumbnail with no row yet (step 0): blank, its canvas sized for `width` now, so that the step that
   * draws the first row does not also make the backing store.
   */
  reserve(width) {
    this.spec = null;
    this.layout = null;
    this.lastArgs = null;
    const dpr = pixelRatio();
    setExactSize(this.canvas, width, width, dpr);
    this.canvas.getContext('2d').clearRect(0, 0, this.canvas.width, this.canvas.height);
  }

  #cells(ctx, L) {
    if (this.thumbnail && Number.isInteger(L.dpr) && LITTLE_ENDIAN) {
      this.#cellsAsPixels(ctx, L);
      return;
    }
    const { rows, nCols, masked, kind } = this.spec;
    const c = L.cell;
    const inner = c - L.gap;
    const hatch = kind === 'mask'
      ? hatchPattern(ctx, ...HATCH_MASK, 5, L.dpr)
      : hatchPattern(ctx, ...HATCH_WEIGHTS, this.thumbnail ? 3 : 5, L.dpr);
    const numbers = kind === 'mask' && !this.thumbnail && c >= 22;
    if (numbers) {
      ctx.font = `${c >= 34 ? 13 : 11}px ${MONO}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
    }
    for (let i = 0; i < rows.length; i++) {
      const y = L.y0 + i * c;
      for (let j = 0; j < nCols; j++) {
        const x = L.x0 + j * c;
        const isMasked = masked(i, j);
        if (isMasked) ctx.fillStyle = hatch;
        else ctx.fillStyle = kind === 'mask' ? '#eef6f1' : viridisStyle(rows[i][j]);
        ctx.fillRect(x, y, inner, inner);
        if (numbers) {
          ctx.fillStyle = isMasked ? '#ffffff' : '#2b6a45';
          ctx.fillText(isMasked ? '−∞' : '0', x + inner / 2, y + inner / 2 + 0.5);
        }
      }
    }
  }

  // A thumbnail's cells written as pixels, the whole canvas at once: the pixels the fillRect per cell
  // draws (at a whole-number device pixel ratio every cell covers whole pixels; the hatch is the
  // pattern's tile, tiled from the canvas's origin as the pattern is), for a fraction of the cost.
  #cellsAsPixels(ctx, L) {
    const { rows, nCols, masked, kind } = this.spec;
    const dpr = L.dpr;
    const { width, height } = this.canvas;
    const image = ctx.createImageData(width, height);
    const px = new Uint32Array(image.data.buffer);
    const hatch = kind === 'mask' ? hatchTile(...HATCH_MASK, 5, dpr) : hatchTile(...HATCH_WEIGHTS, 3, dpr);
    const tile = new Uint32Array(hatch.data.buffer, hatch.data.byteOffset, hatch.width * hatch.height);
    const c = L.cell;
    const inner = (c - L.gap) * dpr;
    for (let i = 0; i < rows.length; i++) {
      const y0 = Math.max(0, (L.y0 + i * c) * dpr);
      const y1 = Math.min(height, (L.y0 + i * c) * dpr + inner);
      for (let j = 0; j < nCols; j++) {
        const x0 = Math.max(0, (L.x0 + j * c) * dpr);
        const x1 = Math.min(width, (L.x0 + j * c) * dpr + inner);
        if (masked(i, j)) {
          for (let y = y0; y < y1; y++) {
            const t = (y % hatch.height) * hatch.width;
            for (let x = x0, o = y * width + x0; x < x1; x++, o++) px[o] = tile[t + (x % hatch.width)];
          }
        } else {
          const colour = packed(kind === 'mask' ? MASK_OPEN : viridis(rows[i][j]));
          for (let y = y0; y < y1; y++) px.fill(colour, y * width + x0, y * width + x1);
        }
      }
    }
    ctx.putImageData(image, 0, 0);
  }

  #labels(ctx, L) {
    const { rowLabels, colLabels, rowNotes, latestRow, highlightRow, rowAxis, colAxis } = this.spec;
    const c = L.cell;
    ctx.textBaseline = 'middle';
    // Row labels (queries), right-aligned against the cells; the latest row gets a marker.
    for (let i = 0; i < rowLabels.length; i++) {
      const y = L.y0 + i * c + (c - L.gap) / 2;
      const strong = i === highlightRow || (this.hover && this.hover.i === i);
      ctx.font = `${strong ? 'bold ' : ''}12px ${MONO}`;
      ctx.fillStyle = strong ? INK : '#3d4452';
      ctx.textAlign = 'right';
      ctx.fillText(rowLabels[i], L.x0 - 8, y);
      if (i === latestRow) {
        ctx.fillStyle = ACCENT;
        ctx.beginPath();
        ctx.moveTo(2, y - 5);
        ctx.lineTo(9, y);
        ctx.lineTo(2, y + 5);
        ctx.fill();
      }
      if (rowNotes) {
        ctx.textAlign = 'left';
        ctx.font = `${strong ? 'bold ' : ''}12px ${MONO}`;
        ctx.fillStyle = strong ? INK : MUTED;
        ctx.fillText(rowNotes[i], L.x0 + this.spec.nCols * c + 8, y);
      }
    }
    // Column labels (keys), horizontal when they fit, else slanted.
    for (let j = 0; j < colLabels.length; j++) {
      const x = L.x0 + j * c + (c - L.gap) / 2;
      const strong = j === this.spec.highlightCol || (this.hover && this.hover.j === j);
      ctx.font = `${strong ? 'bold ' : ''}12px ${MONO}`;
      ctx.fillStyle = strong ? INK : '#3d4452';
      if (L.rotate) {
        ctx.save();
        ctx.translate(x + 3, L.y0 - 6);
        ctx.rotate(-Math.PI / 4);
        ctx.textAlign = 'left';
        ctx.fillText(colLabels[j], 0, 0);
        ctx.restore();
      } else {
        ctx.textAlign = 'center';
        ctx.fillText(colLabels[j], x, L.y0 - 10);
      }
    }
    // Axis names in the corner.
    ctx.font = `11px ${SANS}`;
    ctx.fillStyle = MUTED;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    if (colAxis && !L.rotate) ctx.fillText(colAxis, L.x0, 11);
    if (rowAxis && L.left > 40 && !L.rotate) {
      ctx.textAlign = 'right';
      ctx.fillText(rowAxis, L.x0 - 8, L.y0 - 10);
    }
  }

  // The highlighted row outlined, or the highlighted column (highlightCol: the selected query of a matrix
  // drawn with queries as columns, the mask in [key, query] order).
  #rowOutline(ctx, L) {
    const i = this.spec.highlightRow;
    const j = this.spec.highlightCol;
    const c = L.cell;
    let x; let y; let w; let h;
    if (i !== undefined && i >= 0 && i < this.spec.rows.length) {
      [x, y, w, h] = [L.x0 - 1, L.y0 + i * c - 1, this.spec.nCols * c - L.gap + 2, c - L.gap + 2];
    } else if (j !== undefined && j >= 0 && j < this.spec.nCols) {
      [x, y, w, h] = [L.x0 + j * c - 1, L.y0 - 1, c - L.gap + 2, this.spec.rows.length * c - L.gap + 2];
    } else return;
    const t = this.thumbnail ? 1 : 2;
    ctx.lineWidth = t + 1;
    ctx.strokeStyle = INK;
    ctx.strokeRect(x - t / 2, y - t / 2, w + t, h + t);
    if (!this.thumbnail) {
      ctx.lineWidth = 1;
      ctx.strokeStyle = '#ffffff';
      ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    }
  }

  #cellOutline(ctx, L, i, j) {
    const c = L.cell;
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#ffffff';
    ctx.strokeRect(L.x0 + j * c + 1, L.y0 + i * c + 1, c - L.gap - 2, c - L.gap - 2);
    ctx.lineWidth = 1;
    ctx.strokeStyle = INK;
    ctx.strokeRect(L.x0 + j * c - 0.5, L.y0 + i * c - 0.5, c - L.gap + 1, c - L.gap + 1);
  }

  /** Where cell (i, j) was last drawn, in CSS pixels from the canvas's top-left corner, or null. */
  cellRect(i, j) {
    const L = this.layout;
    if (!L || !this.spec || !(i >= 0 && i < this.spec.rows.length && j >= 0 && j < this.spec.nCols)) return null;
    return { x: L.x0 + j * L.cell, y: L.y0 + i * L.cell, width: L.cell - L.gap, height: L.cell - L.gap };
  }

  /** The cell under a mouse event: { i, j, value, masked } or null. */
  cellAt(event) {
    if (!this.layout || !this.spec) return null;
    const rect = this.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left - this.layout.x0;
    const y = event.clientY - rect.top - this.layout.y0;
    const i = Math.floor(y / this.layout.cell);
    const j = Math.floor(x / this.layout.cell);
    if (x < 0 || y < 0 || i >= this.spec.rows.length || j >= this.spec.nCols) return null;
    return { i, j, value: this.spec.rows[i][j] ?? 0, masked: this.spec.masked(i, j) };
  }

  #pointer(event, onHover, onLeave) {
    const cell = this.cellAt(event);
    const changed = (cell?.i ?? -1) !== (this.hover?.i ?? -1) || (cell?.j ?? -1) !== (this.hover?.j ?? -1);
    this.hover = cell;
    if (changed) this.#redraw();
    if (cell) onHover?.(cell, event.clientX, event.clientY);
    else onLeave?.();
  }

  #leave(onLeave) {
    if (this.hover) {
      this.hover = null;
      this.#redraw();
    }
    onLeave?.();
  }

  #redraw() {
    if (this.lastArgs) this.draw(...this.lastArgs);
  }
}

/**
 * Draws a small made-up matrix, full size and as a thumbnail, on canvases that are never shown: the
 * browser compiles drawing code on its first runs, which made the learner's first step the slowest
 * (measured: the enlarged matrix 7 ms and the head thumbnails 5 ms on the first step, ~1 ms after).
 * Called once, when the browser is idle after the page starts.
 */
export function warmUpHeatmaps() {
  const rows = [[1], [0.4, 0.6], [0.2, 0.3, 0.5]].map((r) => Float32Array.from({ length: 4 }, (_, j) => r[j] ?? 0));
  const spec = {
    rows, nCols: 4, rowLabels: ['<s>', 'a', 'b'], colLabels: ['<s>', 'a', 'b', 'c'], masked: (i, j) => j > i,
    kind: 'weights', highlightRow: 2, latestRow: 2, rowAxis: 'query', colAxis: 'key →',
  };
  for (const kind of ['weights', 'mask']) {
    new Heatmap(document.createElement('canvas')).draw({ ...spec, kind }, 320);
    new Heatmap(document.createElement('canvas'), { thumbnail: true }).draw({ ...spec, kind }, 64);
  }
}

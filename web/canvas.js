// Canvas helpers shared by the heatmaps (heatmap.js) and the matrices of "Open the box" (panels/vectors.js),
// written so that a step redraws cheaply: a canvas keeps its backing store while its size stays the same,
// masked cells are filled with one hatch pattern (no save/clip/stroke per cell), a matrix of single-colour
// cells is drawn as one scaled image, and colours are strings made once.
import { VIRIDIS } from './colormap.js';

/** The 256 viridis colours as CSS strings, made once (fillStyle takes them without a new string per cell). */
const VIRIDIS_CSS = VIRIDIS.map(([r, g, b]) => `rgb(${r},${g},${b})`);

/** viridis(t) as a CSS colour string (the same colour as colormap.js viridisCss). */
export function viridisStyle(t) {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  return VIRIDIS_CSS[Math.round(x * 255)];
}

// The backing store's height grows in steps of this many CSS pixels: a matrix that gains a row per step
// keeps its backing store (and its context) for several steps instead of getting a new one each time.
const GROW_BY = 128;

/**
 * Sizes a canvas to cssWidth x cssHeight CSS pixels at `dpr` device pixels each. Only what differs is
 * written. The backing store is the width asked for and at least the height asked for: when a canvas
 * grows taller it gets GROW_BY more than it needs, and later heights up to that reuse it (a new backing
 * store costs its allocation here and a new texture at the next frame). The part below the height asked
 * for is not shown: `object-fit: cover` from the top left scales the backing store to the element's
 * width, which is exactly 1 / dpr, and cuts it at the element's height. Returns the backing store's
 * height in CSS pixels (what a full clear must cover).
 */
export function setCanvasSize(canvas, cssWidth, cssHeight, dpr) {
  const w = `${cssWidth}px`;
  const h = `${cssHeight}px`;
  if (canvas.style.width !== w) canvas.style.width = w;
  if (canvas.style.height !== h) canvas.style.height = h;
  if (canvas.style.objectFit !== 'cover') {
    canvas.style.objectFit = 'cover';
    canvas.style.objectPosition = 'left top';
  }
  const pw = Math.round(cssWidth * dpr);
  const ph = Math.round(cssHeight * dpr);
  // (a canvas much taller than needed, e.g. from a longer word before, is made smaller again)
  if (canvas.width !== pw || canvas.height < ph || canvas.height > ph + 2 * Math.round(GROW_BY * dpr)) {
    if (canvas.width !== pw) canvas.width = pw;
    canvas.height = ph + Math.round(GROW_BY * dpr);
  }
  return canvas.height / dpr;
}

/** Sizes a canvas to exactly cssWidth x cssHeight CSS pixels at `dpr` (a size that does not change per step). */
export function setExactSize(canvas, cssWidth, cssHeight, dpr) {
  const w = `${cssWidth}px`;
  const h = `${cssHeight}px`;
  if (canvas.style.width !== w) canvas.style.width = w;
  if (canvas.style.height !== h) canvas.style.height = h;
  const pw = Math.round(cssWidth * dpr);
  const ph = Math.round(cssHeight * dpr);
  if (canvas.width !== pw) canvas.width = pw;
  if (canvas.height !== ph) canvas.height = ph;
}

// One pattern per hatch (background, stroke, spacing) and context: diagonal lines every `spacing` CSS
// pixels over the background, as the per-cell hatching drew them, tiled from the canvas's origin.
const patterns = new WeakMap();  // context -> Map(key -> CanvasPattern)

/**
 * The hatch pattern for masked cells, made once per context and device pixel ratio: the tile is drawn at
 * the device's resolution, and the pattern scaled back to CSS pixels (the context draws in CSS pixels).
 */
export function hatchPattern(ctx, background, stroke, spacing, dpr = 1) {
  let byKey = patterns.get(ctx);
  if (!byKey) patterns.set(ctx, (byKey = new Map()));
  const key = `${background} ${stroke} ${spacing} ${dpr}`;
  let pattern = byKey.get(key);
  if (!pattern) {
    const tile = document.createElement('canvas');  // never attached: drawing on it reads no page style
    tile.width = Math.round(spacing * dpr);
    tile.height = Math.round(spacing * dpr);
    const t = tile.getContext('2d');
    t.scale(tile.width / spacing, tile.height / spacing);
    t.fillStyle = background;
    t.fillRect(0, 0, spacing, spacing);
    t.strokeStyle = stroke;
    t.lineWidth = 1;
    t.beginPath();
    for (const d of [-spacing, 0, spacing]) {  // x + y = spacing + d, continued across the tile's edges
      t.moveTo(d, spacing);
      t.lineTo(d + spacing, 0);
    }
    t.stroke();
    pattern = ctx.createPattern(tile, 'repeat');
    pattern.setTransform(new DOMMatrix().scale(spacing / tile.width, spacing / tile.height));
    byKey.set(key, pattern);
  }
  return pattern;
}

// Drawing text on a canvas in the page makes the browser bring the page's style up to date first (the
// canvas's font may depend on it): in the middle of a render, after other panels' DOM writes, that is a
// style recalculation forced there and then. A canvas never attached has no such dependency.
let detached = null;

/**
 * A context to draw a cssWidth x cssHeight picture in CSS pixels at `dpr`, on a canvas that is never
 * attached (shared, grown as needed, cleared here), and the function that copies it onto `canvas`'s
 * context (sized already, e.g. by setCanvasSize): draw there what needs text, then copy it over.
 */
export function drawDetached(cssWidth, cssHeight, dpr) {
  detached ??= document.createElement('canvas');
  const pw = Math.round(cssWidth * dpr);
  const ph = Math.round(cssHeight * dpr);
  if (detached.width < pw || detached.height < ph) {
    detached.width = Math.max(detached.width, pw);
    detached.height = Math.max(detached.height, ph);
  }
  const ctx = detached.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, pw, ph);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const copyTo = (target) => {
    target.setTransform(1, 0, 0, 1, 0, 0);
    target.clearRect(0, 0, target.canvas.width, target.canvas.height);
    target.drawImage(detached, 0, 0, pw, ph, 0, 0, pw, ph);
  };
  return { ctx, copyTo };
}

// A scratch canvas for drawCells, never attached, grown as needed.
let scratch = null;

/**
 * Draws a [rows, cols] grid of solid cells, each cw x ch CSS pixels, its top-left corner at (x, y) in the
 * context's current (CSS-pixel) coordinates: colourOf(k) gives cell k = r * cols + j as [r, g, b]. The
 * grid is written as one pixel per cell and scaled up with no smoothing: one drawImage for the whole
 * matrix instead of a fillRect per cell.
 */
export function drawCells(ctx, cols, rows, colourOf, x, y, cw, ch) {
  if (rows <= 0 || cols <= 0) return;
  scratch ??= document.createElement('canvas');
  if (scratch.width < cols || scratch.height < rows) {
    scratch.width = Math.max(scratch.width, cols);
    scratch.height = Math.max(scratch.height, rows);
  }
  const s = scratch.getContext('2d');
  const image = s.createImageData(cols, rows);
  const px = image.data;
  for (let k = 0, o = 0; k < rows * cols; k++, o += 4) {
    const [r, g, b] = colourOf(k);
    px[o] = r;
    px[o + 1] = g;
    px[o + 2] = b;
    px[o + 3] = 255;
  }
  s.putImageData(image, 0, 0);
  const smoothing = ctx.imageSmoothingEnabled;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, cols, rows, x, y, cols * cw, rows * ch);
  ctx.imageSmoothingEnabled = smoothing;
}

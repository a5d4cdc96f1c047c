// Canvas helpers shared by the heatmaps (heatmap.js) and the matrices of "Open the box" (panels/vectors.js),
// written so that a step redraws cheaply: a canvas keeps its backing store while it is large enough,
// masked cells are filled with one hatch pattern (no save/clip/stroke per cell), a matrix of single-colour
// cells is drawn as one scaled image, colours are strings made once, and text can be drawn off the page.
import { VIRIDIS } from './colormap.js';

/** The 256 viridis colours as CSS strings, made once (fillStyle takes them without a new string per cell). */
const VIRIDIS_CSS = VIRIDIS.map(([r, g, b]) => `rgb(${r},${g},${b})`);

/** viridis(t) as a CSS colour string (the same colour as colormap.js viridisCss). */
export function viridisStyle(t) {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  return VIRIDIS_CSS[Math.round(x * 255)];
}

/** The device pixels per CSS pixel a canvas is drawn at: the screen's, from 1 to 3. */
export const pixelRatio = () => Math.max(1, Math.min(3, window.devicePixelRatio || 1));

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

// One hatch per (background, stroke, spacing, dpr): diagonal lines every `spacing` CSS pixels over the
// background, as the per-cell hatching drew them, drawn once on a tile at the device's resolution; tiled
// from the canvas's origin, as a pattern (hatchPattern) or as pixels (hatchTile).
const tiles = new Map();  // key -> { canvas, pixels, patterns (context -> CanvasPattern) }
function tile(background, stroke, spacing, dpr) {
  const key = `${background} ${stroke} ${spacing} ${dpr}`;
  let t = tiles.get(key);
  if (!t) {
    const canvas = document.createElement('canvas');  // never attached: drawing on it reads no page style
    canvas.width = Math.round(spacing * dpr);
    canvas.height = Math.round(spacing * dpr);
    const c = canvas.getContext('2d');
    c.scale(canvas.width / spacing, canvas.height / spacing);
    c.fillStyle = background;
    c.fillRect(0, 0, spacing, spacing);
    c.strokeStyle = stroke;
    c.lineWidth = 1;
    c.beginPath();
    for (const d of [-spacing, 0, spacing]) {  // x + y = spacing + d, continued across the tile's edges
      c.moveTo(d, spacing);
      c.lineTo(d + spacing, 0);
    }
    c.stroke();
    t = { canvas, pixels: null, patterns: new WeakMap() };
    tiles.set(key, t);
  }
  return t;
}

/**
 * The hatch pattern for masked cells, made once per context: the tile (at the device's resolution)
 * scaled back to CSS pixels, since the context draws in CSS pixels.
 */
export function hatchPattern(ctx, background, stroke, spacing, dpr = 1) {
  const t = tile(background, stroke, spacing, dpr);
  let pattern = t.patterns.get(ctx);
  if (!pattern) {
    pattern = ctx.createPattern(t.canvas, 'repeat');
    pattern.setTransform(new DOMMatrix().scale(spacing / t.canvas.width, spacing / t.canvas.height));
    t.patterns.set(ctx, pattern);
  }
  return pattern;
}

/** The same hatch as RGBA pixels: { width, height, data } (device pixels; pixel (x, y) of a canvas is tile (x mod width, y mod height)). */
export function hatchTile(background, stroke, spacing, dpr = 1) {
  const t = tile(background, stroke, spacing, dpr);
  t.pixels ??= t.canvas.getContext('2d').getImageData(0, 0, t.canvas.width, t.canvas.height);
  return t.pixels;
}

// Text drawn on a canvas in the page makes the browser bring the page's style up to date first
// (fillText and the font may depend on it): in the middle of a render, after other panels' DOM writes, a
// style recalculation forced there and then, and inside content the browser skips while it is off
// screen (content-visibility), a recalculation of that content too. Text drawn on a canvas that is never
// attached needs none.
let textCanvas = null;

/**
 * Text drawn off the page and copied onto `ctx` (whose transform is CSS pixels at `dpr`): draw(t) draws
 * with t, a context in CSS pixels over cssWidth x cssHeight (font, alignment and direction set by the
 * caller), and the picture lands at (x, y).
 */
export function drawText(ctx, x, y, cssWidth, cssHeight, dpr, draw) {
  textCanvas ??= document.createElement('canvas');
  const pw = Math.max(1, Math.round(cssWidth * dpr));
  const ph = Math.max(1, Math.round(cssHeight * dpr));
  if (textCanvas.width < pw || textCanvas.height < ph) {
    textCanvas.width = Math.max(textCanvas.width, pw);
    textCanvas.height = Math.max(textCanvas.height, ph);
  }
  const t = textCanvas.getContext('2d');
  t.setTransform(1, 0, 0, 1, 0, 0);
  t.clearRect(0, 0, pw, ph);
  t.setTransform(dpr, 0, 0, dpr, 0, 0);
  draw(t);
  ctx.drawImage(textCanvas, 0, 0, pw, ph, x, y, pw / dpr, ph / dpr);
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

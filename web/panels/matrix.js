// The enlarged matrix in the middle of the explorer: the view chosen on the tabs (the causal mask,
// masked self-attention, cross-attention or encoder self-attention; one module each, listed in MATRICES)
// at the layer and head chosen, with its title, the row shown outlined, and the exact value on hover.
// Redrawn when the trace, the view, the head, the row or the width changes.
import { Heatmap } from '../heatmap.js';
import { el, showTooltip, hideTooltip } from '../tooltip.js';
import { explainerFor } from '../phonemes.js';
import { viewTitle } from '../views.js';
import * as mask from './mask.js';
import * as selfAttention from './self_attention.js';
import * as crossAttention from './cross_attention.js';
import * as encoderAttention from './encoder_attention.js';
import { Memo, setProperty, setText, viewportWidth } from './util.js';
import { MatrixTable } from './matrix_table.js';

/**
 * The views, by id. Each module exports: matrix(trace, { layer, head }) -> what the Heatmap draws (rows,
 * nCols, labels, masked(i, j), ...); tooltip(cell, spec) -> the lines shown on hover; legend(trace);
 * layers(config) (0: no layers or heads to choose); rowsAreDecoderPositions; rowsClickable.
 */
export const MATRICES = { mask, self: selfAttention, cross: crossAttention, encoder: encoderAttention };

/** What a view shows for a layer and head of a trace (for the page and for window.stepwiseState). */
export const viewData = (trace, view, selection = {}) => MATRICES[view].matrix(trace, selection);

// The axes that hold the decoder's tokens (the target vocabulary): both for the mask and self-attention,
// the rows of cross-attention (its keys are letters), none for the encoder.
const TARGET_AXES = { mask: [true, true], self: [true, true], cross: [true, false], encoder: [false, false] };

// One short line per phoneme of the cell's row and column: "AY1: the vowel of “bite” (…), primary stress".
function phonemeLinesOf(cell, spec, store) {
  const explain = explainerFor(store.state.model);
  const [rows, cols] = TARGET_AXES[store.state.view] ?? [false, false];
  const tokens = [rows ? spec.rowLabels[cell.i] : null, cols ? spec.colLabels[cell.j] : null];
  return [...new Set(tokens)].map(explain).filter((x) => x && x.kind !== 'special').map((x) => [el('span', { class: 'dim' }, x.text)]);
}

export function create(root, store) {
  const title = root.querySelector('#view-title');
  const wrap = root.querySelector('#map-wrap');
  const canvas = root.querySelector('#main-map');
  const map = new Heatmap(canvas, {
    onHover: (cell, x, y) => {
      if (!store.trace || !map.spec) return;
      showTooltip([...MATRICES[store.state.view].tooltip(cell, map.spec), ...phonemeLinesOf(cell, map.spec, store)], x, y);
    },
    onLeave: hideTooltip,
    onClickRow: (i) => {
      if (MATRICES[store.state.view].rowsClickable) store.actions.selectRow(i);
    },
  });
  // The width available, as the layout last left it: read when the layout is done (a ResizeObserver), so
  // that drawing never makes the browser lay the page out in the middle of a step. A change draws again.
  let wrapWidth = -1;
  new ResizeObserver(() => {
    const now = wrap.clientWidth;
    if (now === wrapWidth) return;
    wrapWidth = now;
    if (store.state.model) requestAnimationFrame(() => store.render());
  }).observe(wrap);
  const table = new MatrixTable(wrap, 'main-map-table');  // the canvas, as a table for screen readers
  const dataMemo = new Memo();
  const drawMemo = new Memo();
  let data = null;
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!model) return;
      const { view, layer, head, maskOrder } = selection;
      const heads = model.config.n_heads;
      const label = viewTitle(view, { layer, head, heads, maskOrder, causal: trace?.causal !== false });
      setText(title, label);
      if (dataMemo.changed(trace, trace?.stepMs.length, trace?.causal, view, layer, head, view === 'mask' ? maskOrder : '')) {
        data = trace ? viewData(trace, view, { layer, head, maskOrder }) : null;
        table.show(data, label);
        drawMemo.reset();
      }
      if (!data || data.rows.length === 0) {
        setProperty(canvas, 'hidden', true);
        const text = !trace ? 'Nothing to show yet.' : trace.decoderOnly && trace.input.length
          ? 'The decoder has not taken a step yet: press Step → and the rows for <s> and the prompt appear.'
          : 'The decoder has not taken a step yet: press Step → and the first row, for <s>, appears.';
        const empty = wrap.querySelector('.empty-note');
        if (empty) setText(empty, text);
        else wrap.append(el('p', { class: 'empty-note' }, text));
        return;
      }
      wrap.querySelector('.empty-note')?.remove();
      setProperty(canvas, 'hidden', false);
      const decoderRows = MATRICES[view].rowsAreDecoderPositions && !data.keysAsRows;  // rows as keys: no query row
      const row = decoderRows ? selection.row : -1;
      const col = data.keysAsRows ? selection.row : -1;  // the mask as [key, query]: the query is a column
      const latest = trace.mode === 'steps' && decoderRows ? trace.queries.length - 1 : -1;
      if (wrapWidth < 0) wrapWidth = wrap.clientWidth;  // before the first observation
      const width = Math.max(200, wrapWidth);
      const maxHeight = viewportWidth() < 640 ? 460 : 520;
      if (!drawMemo.changed(row, col, latest, width, maxHeight, window.devicePixelRatio)) return;
      map.draw({ ...data, highlightRow: row, highlightCol: col, latestRow: latest }, width, { maxHeight });
    },
  };
}

// Teacher forcing as training (teacher-forcing mode only): the loss of the pass position by position, with
// the cross-entropy and its label-smoothed value; the pass's masked self-attention beside the same reference
// fed step by step with the KV cache, and their largest difference; and exposure bias, where the model's own
// greedy output departs from the reference and what it predicts next fed either one. The numbers are
// computed in web/training.js, the words are in web/training_texts.js.
import { Heatmap } from '../heatmap.js';
import { el, showTooltip, hideTooltip } from '../tooltip.js';
import { headName } from '../views.js';
import { twinRows } from '../training.js';
import * as T from '../training_texts.js';
import { Memo, setProperty, setText, shorten, weightTooltip } from './util.js';

const percent = (p) => (p >= 0.995 ? `${(p * 100).toFixed(0)} %` : p >= 0.001 ? `${(p * 100).toFixed(1)} %` : p > 0 ? '< 0.1 %' : '0 %');
const nats = (x) => x.toFixed(4);

// A number shown rounded, its exact value in data-value (for the tooltip-curious and the tests).
const number = (x, text, attributes = {}) => el('td', { class: 'num', 'data-value': String(x), ...attributes }, text);

function lossTable(table, training, trace) {
  const { loss, maskedLoss, causal, positions } = training;
  const scale = Math.max(Math.LN2, ...loss.nll, ...(causal ? [] : maskedLoss.nll));
  const head = el('tr', {},
    el('th', {}, T.COLUMN.position), el('th', {}, T.COLUMN.fed), el('th', {}, T.COLUMN.next), el('th', {}, causal ? T.COLUMN.p : T.COLUMN.pOpen),
    el('th', {}, causal ? T.COLUMN.nll : T.COLUMN.nllOpen), causal ? null : el('th', {}, T.COLUMN.nllMasked), el('th', { 'aria-hidden': 'true' }, ''));
  const rows = [head];
  for (let i = 0; i < positions; i++) {
    const nll = loss.nll[i];
    const bar = el('span', { class: 'nll-bar' });
    bar.style.width = `${Math.min(100, (nll / scale) * 100)}%`;
    rows.push(el('tr', { class: i < trace.promptRows ? 'prompt' : '', 'data-position': String(i) },
      el('td', { class: 'num' }, String(i)),
      el('td', { class: 'mono' }, trace.queries[i]),
      el('td', { class: 'mono' }, trace.produced[i]),
      number(Math.exp(-nll), percent(Math.exp(-nll)), { 'data-name': 'p' }),
      number(nll, nats(nll), { 'data-name': 'nll' }),
      causal ? null : number(maskedLoss.nll[i], nats(maskedLoss.nll[i]), { 'data-name': 'nll-masked' }),
      el('td', { class: 'bar-cell' }, el('span', { class: 'nll-track' }, bar))));
  }
  table.replaceChildren(...rows);
}

function totals(box, training, trainedWith) {
  const { loss, maskedLoss, causal, positions } = training;
  const labels = T.totalLabels(positions, loss.labelSmoothing, trainedWith);
  const line = (name, label, code, open, masked) => el('div', { class: 'loss-total', 'data-name': name },
    el('div', { class: 'loss-label' }, label, el('code', { class: 'loss-code' }, code)),
    el('div', { class: 'loss-values' },
      el('span', { class: 'loss-value', 'data-value': String(open), 'data-name': causal ? 'value' : 'open' }, causal ? nats(open) : `no mask ${nats(open)}`),
      causal ? null : el('span', { class: 'loss-value masked', 'data-value': String(masked), 'data-name': 'masked' }, `with the mask ${nats(masked)}`)));
  box.replaceChildren(
    line('cross-entropy', labels.crossEntropy, labels.crossEntropyCode, loss.crossEntropy, maskedLoss.crossEntropy),
    line('smoothed', labels.smoothed, labels.smoothedCode, loss.smoothed, maskedLoss.smoothed));
}

// Top tokens as bars, the one named `mark` highlighted.
function bars(top, mark) {
  return el('div', { class: 'distribution' }, top.map(({ token, p }) => {
    const fill = el('span', { class: 'bar-fill' });
    fill.style.width = `${Math.max(0, Math.min(100, p * 100))}%`;
    return el('div', { class: `bar-row${token === mark ? ' chosen' : ''}`, 'data-token': token, 'data-p': String(p) },
      el('span', { class: 'bar-token' }, token), el('span', { class: 'bar-track' }, fill), el('span', { class: 'bar-value' }, percent(p)));
  }));
}

// A token sequence, the tokens from `from` on marked as departed and the one at `from` outlined.
function sequence(label, tokens, from, name) {
  return el('div', { class: 'sequence', 'data-name': name },
    el('span', { class: 'sequence-label' }, label),
    tokens.map((token, k) => el('span', { class: `seq-token${k === from ? ' departs' : k > from && from >= 0 ? ' after' : ''}` }, token)));
}

function exposure(box, training, trace) {
  const d = training.departure;
  const first = training.first;
  const children = [];
  if (!d) {
    children.push(el('p', { class: 'exposure-text', 'data-name': 'none' }, T.noDeparture(training.reference.join(' '))));
  } else {
    children.push(sequence(T.EXPOSURE_LABELS.reference, training.reference, d.position, 'reference'),
      sequence(T.EXPOSURE_LABELS.own, training.greedy, d.position, 'own'));
    const prefix = shorten(trace.queries.slice(0, first + d.position + 1).join(' '), 48);
    children.push(el('p', { class: 'exposure-text', 'data-name': 'departure' }, d.atLimit
      ? T.departureAtLimit(prefix, d.reference)
      : T.departureText({ prefix, reference: d.reference, referenceP: d.referenceP, own: d.own, ownP: d.ownP }, percent)));
    if (!d.atLimit) {
      const column = (name, title, top, ends, mark, goesOn) => el('div', { class: 'exposure-column', 'data-name': name },
        el('h4', {}, title), top ? [el('p', { class: 'panel-note' }, goesOn(mark)), bars(top, mark)] : el('p', { class: 'panel-note' }, ends));
      children.push(el('div', { class: 'exposure-columns' },
        column('fed-reference', T.FED_REFERENCE(d.reference), d.fedReference, T.REFERENCE_ENDS, d.referenceRest[0], T.REFERENCE_GOES_ON),
        column('fed-own', T.FED_OWN(d.own), d.fedOwn, T.OWN_ENDS, d.ownRest[0], T.OWN_GOES_ON)));
    }
  }
  children.push(el('p', { class: 'panel-note exposure-why' }, T.EXPOSURE_WHY, training.causal ? '' : ` ${T.EXPOSURE_STEPPED}`));
  box.replaceChildren(...children);
}

// A cell's tooltip; a step's hatched cells were never scored (the key is not in its cache yet).
function tooltip(id, cell, spec) {
  const lines = weightTooltip(cell, spec, 'position', 'position');
  if (id === 'stepped' && cell.masked) lines[2] = ['weight ', el('strong', {}, '0'), el('span', { class: 'dim' }, ' (not in the cache yet)')];
  return lines;
}

export function create(root, store) {
  const lede = root.querySelector('#training-lede');
  const lossNote = root.querySelector('#loss-note');
  const table = root.querySelector('#loss-table');
  const totalBox = root.querySelector('#loss-totals');
  const twinsTitle = root.querySelector('#twins-title');
  const twinsNote = root.querySelector('#twins-note');
  const twinsBox = root.querySelector('#twins');
  const diff = root.querySelector('#twins-diff');
  const legend = root.querySelector('#twins-legend');
  const exposureBox = root.querySelector('#exposure-body');
  setText(root.querySelector('#training-title'), T.TRAINING_TITLE);
  setText(root.querySelector('#exposure-title'), T.EXPOSURE_TITLE);

  const maps = {};
  const captions = {};
  for (const id of ['forced', 'stepped']) {
    const canvas = el('canvas', { id: `twin-${id}`, role: 'img' });
    captions[id] = el('figcaption', {});
    twinsBox.append(el('figure', { class: `twin twin-${id}` }, captions[id], el('div', { class: 'twin-scroll' }, canvas)));
    maps[id] = new Heatmap(canvas, {
      onHover: (cell, x, y) => maps[id].spec && showTooltip(tooltip(id, cell, maps[id].spec), x, y),
      onLeave: hideTooltip,
      onClickRow: (i) => store.actions.selectRow(i + (store.trace?.training?.first ?? 0)),
    });
  }
  let width = -1;
  new ResizeObserver(() => {
    const now = twinsBox.clientWidth;
    if (now === width) return;
    width = now;
    if (store.state.model) requestAnimationFrame(() => store.render());
  }).observe(twinsBox);

  const dataMemo = new Memo();
  const twinMemo = new Memo();
  return {
    update(trace, selection) {
      const model = store.state.model;
      if (!model) return;
      const training = trace?.mode === 'teacher' ? trace.training : null;
      setProperty(root, 'hidden', !training);
      if (!training) return;
      if (dataMemo.changed(trace)) {
        setText(lede, T.trainingLede(training));
        setText(lossNote, T.lossNote({ decoderOnly: trace.decoderOnly, causal: training.causal }));
        lossTable(table, training, trace);
        const entry = store.state.models.find((m) => m.id === store.state.modelId);
        totals(totalBox, training, entry?.builtin ? T.TRAINED_WITH[entry.name] : undefined);
        exposure(exposureBox, training, trace);
        twinMemo.reset();
      }
      const { layer, head } = selection.byView.self ?? { layer: model.config.n_decoder_layers - 1, head: 'mean' };
      if (width < 0) width = twinsBox.clientWidth;
      const half = window.innerWidth <= 640 ? width : Math.max(180, Math.floor((width - 20) / 2));
      if (!twinMemo.changed(trace, layer, head, selection.row, half, window.devicePixelRatio)) return;
      const c = model.config;
      setText(twinsTitle, T.TWINS_TITLE(`layer ${layer + 1}, ${headName(head, c.n_heads)}`, training.causal));
      setText(twinsNote, T.twinsNote({ decoderOnly: trace.decoderOnly, first: training.first }));
      setText(captions.forced, T.TWIN_CAPTIONS.forced(training.causal));
      setText(captions.stepped, T.TWIN_CAPTIONS.stepped);
      setText(legend, T.twinsLegend(training.causal));
      const twins = twinRows(trace, layer, head);
      const n = trace.queries.length;
      const highlightRow = selection.row - twins.first;
      const spec = (rows, masked) => ({
        kind: 'weights', rows, nCols: n, rowLabels: twins.rowLabels, colLabels: twins.colLabels, rowNotes: twins.rowNotes,
        masked, rowAxis: 'query', colAxis: 'key →', highlightRow,
      });
      const first = twins.first;
      maps.forced.draw(spec(twins.forced, (i, j) => training.causal && j > i + first), half, { maxHeight: 420 });
      maps.stepped.draw(spec(twins.stepped, (i, j) => j > i + first), half, { maxHeight: 420 });
      // the canvases' names for a screen reader: what each matrix is and its size (the tooltip has each cell)
      const where = `layer ${layer + 1}, ${headName(head, c.n_heads)}`;
      for (const id of ['forced', 'stepped']) {
        const caption = id === 'forced' ? T.TWIN_CAPTIONS.forced(training.causal) : T.TWIN_CAPTIONS.stepped;
        maps[id].canvas.setAttribute('aria-label', `Self-attention weights, ${where}, ${caption}: ${twins[id].length} query rows × ${n} keys`);
      }
      diff.className = `twins-diff ${training.causal ? 'equal' : 'leak'}`;
      diff.dataset.shown = String(twins.maxDiff);
      diff.dataset.all = String(training.stepped.maxDiff);
      setText(diff, T.twinsDiff({ causal: training.causal, shown: twins.maxDiff, all: training.stepped.maxDiff, layers: c.n_decoder_layers, heads: c.n_heads }));
    },
  };
}

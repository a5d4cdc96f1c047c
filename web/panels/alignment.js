// Two models, one alignment: for the same word, the encoder-decoder's cross-attention (phonemes × letters)
// beside the decoder-only model's masked self-attention kept to the letter positions (phonemes × letters),
// a layer and a head (or their mean) chosen on each side. Computed on demand (web/alignment.js), both
// models loaded at once; each cell hoverable for its exact weight.
import { el } from '../tooltip.js';
import { headRows } from '../alignment.js';
import { viridisCss } from '../colormap.js';
import { headName } from '../views.js';
import { Memo, fmt, setProperty, setText } from './util.js';

const SIDES = [
  ['encoderDecoder', 'Encoder–decoder: cross-attention', 'Each phoneme’s decoder position reads the encoder’s letters through cross-attention; each row sums to 1. It opens on the last layer.'],
  ['decoderOnly', 'Decoder-only: self-attention over the letters', 'Each phoneme’s position reads the letters earlier in its own sequence: the share of its attention that falls on them (the rest goes to <s>, <sep> and the phonemes). It opens on the layer whose heads, on average, look at the letters most.'],
];

export function create(root, store) {
  const button = root.querySelector('#alignment-run');
  const note = root.querySelector('#alignment-note');
  const grid = root.querySelector('#alignment-grid');
  button.addEventListener('click', () => store.actions.compareModels(store.state.word));
  const memo = new Memo();

  function figure(key, title, explain, side, sel) {
    const pick = el('select', { 'data-side': key, 'aria-label': `${title}: layer and head` });
    for (let l = 0; l < side.layers; l++) {
      for (const h of ['mean', ...Array.from({ length: side.heads }, (_, k) => k)]) {
        pick.append(el('option', { value: `${l} ${h}` }, `layer ${l + 1}, ${headName(h, side.heads)}`));
      }
    }
    pick.value = `${sel.layer} ${sel.head}`;
    pick.addEventListener('change', () => {
      const [l, h] = pick.value.split(' ');
      store.actions.selectCompareHead(key, Number(l), h === 'mean' ? 'mean' : Number(h));
    });
    const rows = headRows(side, sel.layer, sel.head);
    const table = el('div', { class: 'align-map', 'data-side': key });
    table.style.gridTemplateColumns = `auto repeat(${side.letters.length}, 1.6rem)`;  // (CSSOM: the CSP refuses style attributes)
    table.append(el('span'), ...side.letters.map((x) => el('span', { class: 'align-col' }, x)));
    rows.forEach((row, i) => {
      table.append(el('span', { class: 'align-row' }, side.phonemes[i]));
      row.forEach((w, j) => {
        const cell = el('span', { class: 'align-cell', 'data-value': String(w), title: `${side.phonemes[i]} ← ${side.letters[j]}: ${fmt(w)}` });
        cell.style.backgroundColor = viridisCss(w);
        table.append(cell);
      });
    });
    return el('figure', { class: 'align-figure' },
      el('figcaption', {}, el('h3', {}, title), el('span', { class: 'mono' }, ` ${side.model}`)),
      pick, table, el('p', { class: 'panel-note' }, `Rows: the phonemes it wrote; columns: the letters. ${explain}`));
  }

  return {
    update() {
      const { word, compare, models, loading } = store.state;
      const two = models.filter((m) => m.builtin).length === 2;
      setProperty(root, 'hidden', !two);
      if (!two) return;
      setProperty(button, 'disabled', Boolean(loading) || Boolean(compare?.loading) || word.trim() === '');
      setText(button, `Compare them on “${word.length > 24 ? `${word.slice(0, 23)}…` : word}”`);
      const sel = compare?.selection;
      if (!memo.changed(compare, compare?.result, sel?.encoderDecoder, sel?.decoderOnly)) return;
      if (!compare) return;
      setText(note, compare.loading ? 'Loading both models…' : compare.error ? compare.error
        : `“${compare.word}”: which letters each sound was written from, found by two different mechanisms. Brighter: more attention.`);
      grid.replaceChildren(...(compare.result ? SIDES.map(([key, title, explain]) => figure(key, title, explain, compare.result[key], sel[key])) : []));
    },
  };
}

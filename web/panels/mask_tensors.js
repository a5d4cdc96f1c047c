// On the causal-mask tab, under the matrix: the switch that draws the mask as PyTorch adds it ([query, key])
// or as the course's expression reads ([key, query]); the expression `torch.triu(torch.ones(n, n)) == 0`
// evaluated literally for the current n (True/False, row i and column j as the tensor has them); PyTorch's
// `generate_square_subsequent_mask(n)` (0/−∞, [query, key]); and how they relate, (M == -inf) == future.T,
// checked cell by cell here. The words are in web/views.js (MASK_TENSORS, MASK_ORDERS).
import { el } from '../tooltip.js';
import { MASK_ORDERS, MASK_TENSORS } from '../views.js';
import { Memo, setProperty, setText } from './util.js';

/** torch.triu(torch.ones(n, n)) == 0, literally: True strictly below the diagonal. */
export const courseExpression = (n) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => !(j >= i)));

/** nn.Transformer.generate_square_subsequent_mask(n): −∞ strictly above the diagonal, else 0. */
export const subsequentMask = (n) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (j > i ? -Infinity : 0)));

/** A tensor as a table: a header row of column indices, then one row per tensor row. */
function table(values, cell) {
  const n = values.length;
  const head = el('tr', {}, el('td', {}, ''), ...Array.from({ length: n }, (_, j) => el('th', {}, String(j))));
  const body = values.map((row, i) => el('tr', {}, el('th', {}, String(i)), ...row.map((v) => {
    const [text, on] = cell(v);
    return el('td', { class: on ? 'on' : '' }, text);
  })));
  return el('table', { class: 'tensor' }, el('thead', {}, head), el('tbody', {}, ...body));
}

export function create(root, store) {
  const name = 'mask-order';
  const group = el('div', { class: 'segmented', role: 'radiogroup', 'aria-label': MASK_TENSORS.orderLabel });
  const radios = Object.entries(MASK_ORDERS).map(([order, { label }]) => {
    const input = el('input', { type: 'radio', name, id: `${name}-${order}`, value: order });
    input.addEventListener('change', () => input.checked && store.actions.setMaskOrder(order));
    group.append(input, el('label', { for: input.id }, label));
    return input;
  });
  const literalCaption = el('p', { class: 'tensor-caption' });
  const literal = el('div', { class: 'tensor-wrap', id: 'mask-literal', tabindex: '0' });
  const literalNote = el('p', { class: 'tensor-note' }, MASK_TENSORS.literalNote);
  const pytorchCaption = el('p', { class: 'tensor-caption' });
  const pytorch = el('div', { class: 'tensor-wrap', id: 'mask-pytorch', tabindex: '0' });
  const relation = el('p', { class: 'relation', id: 'mask-relation' });
  const off = el('p', { class: 'tensor-note', id: 'mask-off-note' }, MASK_TENSORS.switchedOff);
  root.replaceChildren(
    el('div', { class: 'mask-order' }, el('span', {}, MASK_TENSORS.orderLabel), group),
    literalCaption, literal, literalNote, pytorchCaption, pytorch, relation, off,
  );
  const memo = new Memo();
  return {
    update(trace, selection) {
      if (!store.state.model) return;
      const shown = selection.view === 'mask' && Boolean(trace);
      setProperty(root, 'hidden', !shown);
      for (const radio of radios) setProperty(radio, 'checked', radio.value === selection.maskOrder);
      if (!shown || !memo.changed(trace.queries.length, trace.causal)) return;
      const n = trace.queries.length;
      for (const part of [literalCaption, literal, literalNote, pytorchCaption, pytorch]) setProperty(part, 'hidden', n === 0);
      if (n === 0) {
        setText(relation, MASK_TENSORS.empty);
        setProperty(off, 'hidden', trace.causal);
        return;
      }
      const future = courseExpression(n);
      const M = subsequentMask(n);
      setText(literalCaption, MASK_TENSORS.literal(n));
      literal.replaceChildren(table(future, (v) => [v ? 'T' : 'F', v]));
      setText(pytorchCaption, MASK_TENSORS.pytorch(n));
      pytorch.replaceChildren(table(M, (v) => [v === -Infinity ? '−∞' : '0', v === -Infinity]));
      // (M == -inf) == future.T, in every cell
      const holds = M.every((row, i) => row.every((v, j) => (v === -Infinity) === future[j][i]));
      setText(relation, MASK_TENSORS.relation(holds, n));
      setProperty(off, 'hidden', trace.causal);
    },
  };
}

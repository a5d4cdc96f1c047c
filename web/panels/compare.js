// Under the matrix in teacher-forcing mode: do the rows of the parallel pass equal the rows the decoder
// computed one step at a time? (They do under the causal mask, for as long as both were fed the same
// tokens.)
import { Memo, setProperty, setText } from './util.js';

export function create(root, store) {
  const memo = new Memo();
  return {
    update(trace, selection) {
      if (!store.state.model) return;
      const shown = Boolean(trace) && trace.mode === 'teacher' && selection.view !== 'encoder';
      setProperty(root, 'hidden', !shown);
      if (!shown || !memo.changed(trace)) return;
      const { firstCompared: first = 0, rowsCompared, maxDiff, greedy } = trace.teacher;
      const rows = trace.queries.length;
      const span = rowsCompared === first + 1 ? `Row ${first} equals` : `Rows ${first}–${rowsCompared - 1} equal`;
      // A decoder-only model's steps show rows from the prompt's last position on: those are compared.
      const from = first ? ` (rows ${first}–${rows - 1}: from the prompt's last token on, the rows a step shows)` : '';
      if (!trace.causal) {
        root.className = 'compare leak';
        setText(root, `Without the mask the rows no longer equal the ones computed step by step (largest difference ${maxDiff.toFixed(3)}): each position now sees phonemes that come after it.`);
      } else if (rowsCompared === rows) {
        root.className = 'compare equal';
        setText(root, `✓ All ${rows - first} rows${from} equal the rows the decoder computed one step at a time for the same phonemes (largest difference ${maxDiff.toExponential(1)}, float rounding). The mask is what makes the parallel pass and the step-by-step decoder agree.`);
      } else {
        root.className = 'compare partial';
        setText(root, `${span} the step-by-step rows (largest difference ${maxDiff.toExponential(1)}). Then the reference feeds ${trace.queries[rowsCompared]} where the model, on its own, wrote ${greedy.split(' ')[rowsCompared - first - 1] ?? '</s>'}, and the rows part ways: teacher forcing conditions on the reference, not on the model's guesses.`);
      }
    },
  };
}

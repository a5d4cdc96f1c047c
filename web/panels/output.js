// The pronunciation so far: <s>, then each token the decoder wrote (the newest in accent, the row shown
// outlined; click one to look at the row that wrote it), what it is (a step, done, teacher-forced), and
// the dictionary's pronunciation of a held-out word. A step appends one token.
import { el } from '../tooltip.js';
import { phonemeAttributes } from '../phoneme_tips.js';
import { Memo, setAttribute, setProperty, setText } from './util.js';

const isSpecial = (token) => /^<\/?(s|pad)>$/.test(token);

export function create(root, store) {
  const output = root.querySelector('#output');
  const caption = root.querySelector('#output-caption');
  const reference = root.querySelector('#reference');
  const tokensMemo = new Memo();
  const referenceMemo = new Memo();
  let shownFor = null;  // the trace the tokens belong to
  let tiles = [];       // one button per produced token, in order
  let placeholder = null;

  function tile(token, i, trace) {
    const prompt = i < trace.promptRows;
    const title = prompt ? `the prompt, position ${i + 1}: given, read by row ${i + 1}` : `produced by row ${i}`;
    // a phoneme explains itself in the page's tooltip (web/phoneme_tips.js), which then says the title too
    const explained = phonemeAttributes(store.state.model, token, title);
    const button = el('button', { type: 'button', class: 'token', title: explained['data-phoneme'] ? null : title, ...explained }, token);
    button.addEventListener('click', () => store.actions.selectRow(i));
    return button;
  }

  // Keeps the tiles that still read the same, drops the rest, appends the new ones.
  function tokens(trace) {
    if (shownFor !== trace) {
      shownFor = trace;
      tiles = [];
      placeholder = null;
      output.replaceChildren(...(trace ? [el('span', { class: 'token special', title: 'start of sequence: the first thing the decoder reads' }, '<s>')] : []));
    }
    if (!trace) return;
    const produced = trace.produced;
    let same = 0;
    while (same < tiles.length && same < produced.length && tiles[same].textContent === produced[same]) same++;
    for (const old of tiles.splice(same)) old.remove();
    const added = produced.slice(same).map((token, k) => tile(token, same + k, trace));
    tiles.push(...added);
    if (produced.length === 0 && !placeholder) {
      placeholder = el('span', { class: 'token-placeholder' }, 'Press Step → to run the decoder once.');
      output.append(placeholder);
    } else if (produced.length > 0 && placeholder) {
      placeholder.remove();
      placeholder = null;
    }
    output.append(...added);
  }

  return {
    update(trace, selection) {
      if (!store.state.started) return;
      const row = selection.row;
      if (tokensMemo.changed(trace, trace?.stepMs.length, row)) {
        tokens(trace);
        const last = trace ? trace.produced.length - 1 : -1;
        tiles.forEach((button, i) => {
          const token = trace.produced[i];
          const prompt = i < trace.promptRows;  // a decoder-only model's prompt: given, not chosen
          setProperty(button, 'className', `token${isSpecial(token) || prompt ? ' special' : ''}${prompt ? ' prompt' : ''}${i === last && trace.mode === 'steps' ? ' latest' : ''}`);
          setAttribute(button, 'aria-pressed', String(i === row));
        });
        setText(caption, !trace ? '' : trace.mode === 'teacher'
          ? `teacher-forced: ${trace.causal ? 'with' : 'without'} the causal mask`
          : trace.done ? `done in ${trace.stepMs.length} steps` : `step ${trace.stepMs.length}`);
      }

      // The dictionary's pronunciation of held-out words.
      const { words, word, session } = store.state;
      const dictionary = words.get(word.toLowerCase());
      if (!referenceMemo.changed(trace, trace?.stepMs.length, dictionary)) return;
      if (trace && dictionary) {
        const out = session.outputText();
        const verdict = trace.mode === 'teacher' || !trace.done ? null
          : dictionary.includes(out) ? el('span', { class: 'verdict good' }, '✓ matches') : el('span', { class: 'verdict bad' }, '≠ differs');
        reference.replaceChildren('Dictionary (CMUdict, held out from training): ',
          ...dictionary.flatMap((p, k) => [k ? ' or ' : '', el('span', { class: 'phones' },
            ...p.split(' ').flatMap((ph, j) => [j ? ' ' : '', el('span', phonemeAttributes(store.state.model, ph), ph)]))]),
          verdict ? ' ' : '', verdict ?? '');
      } else {
        reference.replaceChildren();
      }
    },
  };
}

// The guided tour (issue 10 §4): eight stops, one per idea of the lesson on the decoder, each a whole page
// state (what store.actions.applyState takes), a callout that points at one real cell, a few sentences,
// and one question the learner answers by an experiment on the page, with its answer. Data and words
// only: web/panels/tour.js draws the card and the callout and walks the stops.
//
// Every number a text states is computed, never written here: facts(ctx) runs the stop's own state
// through the model (ctx.trace: a fresh DecoderSession with exactly the stop's settings, the same numbers
// the page shows for it) and, for the answers, the experiment the question asks for (ctx.run: the state
// after the learner's change). So the texts stay true for whatever model the page ships; the stories
// they tell ("the silent k gets nothing") are checked against the shipped model by
// tests/browser/tour.test.mjs, and a sentence whose premise does not hold is left out.
//
// Layers and heads count from 0 here, as in the state; the texts count from 1, as the page labels them.
// A stop's link is its number in the address: `#tour=3` alone applies stop 3's state; `#tour=3&word=…`
// (the address the page writes while the tour is open) restores that whole state with stop 3's card open,
// so a learner can share the page as their experiment left it.
import { DecoderSession } from './session.js';
import { HEAD_STAGES } from './inside_texts.js';

/** The words the tour reads (the built-in model must read them all: panels/tour.js checks). */
export const TOUR_WORDS = ['knight', 'phoenix', 'queue'];

/** The smallest model the stops' layers and heads fit. */
export const TOUR_NEEDS = { decoderLayers: 3, heads: 4 };

// Numbers as the texts print them, with a real minus sign.
const minus = (text) => text.replace(/^-/, '−');
const f2 = (x) => (x === -Infinity ? '−∞' : minus(x.toFixed(2)));
const f3 = (x) => minus(x.toFixed(3));
const argmax = (values) => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
};
const STAGE = (id) => HEAD_STAGES.findIndex((s) => s.id === id);

/** A ratio as a learner reads it, to two significant digits: 3.4, 350, 4.1 × 10⁶. */
function times(x) {
  if (!Number.isFinite(x)) return 'more than 10³⁸';
  if (x < 10000) return String(Number(x.toPrecision(2)));
  const e = Math.floor(Math.log10(x));
  const superscript = String(e).replace(/\d/g, (d) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[d]);
  return `${(x / 10 ** e).toFixed(1)} × 10${superscript}`;
}

// The difference of two numbers as printed (so that 14.36 − 8.48 reads 5.88, whatever the digits after).
const printedGap = (a, b) => Number(a.toFixed(2)) - Number(b.toFixed(2));

/** "layer 3, head 2": a layer and head counted from 0, as the page labels them. */
export const where = (layer, head) => `layer ${layer + 1}, head ${head + 1}`;

// The head (over every layer and head) that puts the most weight on key `col` in row `row` of a view.
function strongestHead(rows, row, col) {
  let best = { layer: 0, head: 0, weight: -1 };
  rows.forEach((layer, l) => layer.forEach((head, h) => {
    const w = head[row]?.[col] ?? -1;
    if (w > best.weight) best = { layer: l, head: h, weight: w };
  }));
  return best;
}

const lastLayer = (c) => c.n_decoder_layers - 1;
const dictionary = (words, word) => words?.get(word)?.[0] ?? null;

/**
 * The stops. Each:
 *   id, title        the stop's name (the card's heading); dock: 'left' puts the card on the left (by default
 *                    it goes on the side away from the callout) where the experiment is on the right
 *   state(env)       what applyState takes (less the model and tourStop, which panels/tour.js adds);
 *                    env: { c (the model's config), words (the held-out words), ownOutput(word) }
 *   callout          what the marker points at: { kind: 'cell', view, layer, head, row, col } (a cell of
 *                    the enlarged matrix), 'box' (a box of the decoder diagram), 'inside' (a number of
 *                    the head walk), 'bar' (a next-token bar), 'beam' (a finished hypothesis); value and
 *                    label: what the marker shows where the page has no cell to read it from; any field
 *                    may be a function of the facts
 *   facts(ctx)       the numbers the texts use; ctx: { trace, model, c, words, run(change) -> the trace of
 *                    the stop's state with `change` applied: the experiment }
 *   text(f)          a few sentences (paragraphs); calloutText(f): the sentence about the marked cell
 *   question(f)      "Try it: …": an experiment on the page; answer(f): what it shows, and why
 */
export const STOPS = [
  {
    id: 'decoder-block',
    title: 'The decoder block',
    state: ({ c }) => ({
      word: 'knight', mode: 'steps', strategy: 'greedy', step: 1, view: 'cross',
      selection: { cross: { layer: lastLayer(c), head: 'mean' } }, row: null, maskOrder: 'query-key',
    }),
    callout: { kind: 'box', part: 'next', value: (f) => f.p, label: (f) => `${f.wrote} ${f2(f.p)}` },
    facts({ trace, c, run }) {
      const chosen = trace.dist[0].chosen;
      const next = run({ step: 2 });
      return {
        layers: c.n_decoder_layers,
        encoderLayers: c.n_encoder_layers,
        wrote: trace.produced[0],
        p: trace.dist[0].probs[chosen],
        top: argmax(trace.dist[0].probs) === chosen,
        reads: next.queries[1],
        writes: next.produced[1],
        p2: next.dist[1].probs[next.dist[1].chosen],
      };
    },
    text: (f) => [
      'One decoder layer, as the block diagram draws it: masked self-attention over what the decoder has ' +
        'written so far, cross-attention over the encoder\'s reading of your letters, then a feed-forward network; each adds ' +
        `its output to the residual stream. This model stacks ${f.layers} such layers, fed by ${f.encoderLayers} encoder layers.`,
    ],
    calloutText: (f) => `One step ran all ${f.layers} layers on <s>, the start token at the bottom; at the top, Linear + softmax gave ` +
      `${f.wrote} p = ${f2(f.p)}${f.top ? ', the most likely phoneme, and greedy decoding wrote it' : ''}.`,
    question: () => 'Press Step → once. What does the block read at its bottom now, and what does it write?',
    answer: (f) => `It reads ${f.reads}, the phoneme it just wrote: the bottom of the diagram now shows <s> ${f.reads}, its own ` +
      `output so far. The same ${f.layers} layers run for that new position, which attends to both (the KV cache keeps the first), and it writes ${f.writes} (p = ${f2(f.p2)}).`,
  },

  {
    id: 'masked-self-attention',
    title: 'Masked self-attention',
    state: () => ({
      word: 'knight', mode: 'steps', strategy: 'greedy', step: 'end', view: 'self',
      selection: { self: { layer: 0, head: 0 } }, row: null, maskOrder: 'query-key',
    }),
    callout: { kind: 'cell', view: 'self', layer: 0, head: 0, row: (f) => f.row, col: (f) => f.col },
    facts({ trace }) {
      const rows = trace.self[0][0];
      const row = Math.min(2, rows.length - 1);
      const col = argmax(rows[row]);
      const last = rows.length - 1;
      const lastCol = argmax(rows[last]);
      return {
        row, col, w: rows[row][col], reads: trace.queries[row], writes: trace.produced[row], key: trace.queries[col],
        previous: col === row - 1,
        last, lastReads: trace.queries[last], lastWeights: Array.from(rows[last]), lastKey: trace.queries[lastCol],
        lastW: rows[last][lastCol], lastPrevious: lastCol === last - 1,
      };
    },
    text: () => [
      'Masked self-attention lets each position of the output look back at the positions written before it. Row i is ' +
        'position i (the query); each column is a position it may look at (a key). The hatched cells, right of the diagonal, ' +
        'are positions written after the row: stepping, they did not exist yet when the row was computed.',
    ],
    calloutText: (f) => `In ${where(0, 0)}, row ${f.row} (reads ${f.reads}, writes ${f.writes}) puts ${f2(f.w)} on ${f.key}` +
      `${f.previous ? ', the position just before it' : ''}.`,
    question: (f) => `Hover over (or tap) the cells of the last row, row ${f.last} (reads ${f.lastReads}): where does this head look, and what do its weights add up to?`,
    answer: (f) => `Mostly at ${f.lastKey} (${f2(f.lastW)})${f.lastPrevious && f.previous ? ', again the position just before it: this head reads the previous phoneme' : ''}. ` +
      `Its ${f.lastWeights.length} weights, ${f.lastWeights.map(f3).join(' + ')}, add up to 1 (to rounding): the softmax turns a row of scores into weights that sum to 1.`,
  },

  {
    id: 'inside-one-head',
    title: 'Inside one head',
    state: () => ({
      word: 'knight', mode: 'steps', strategy: 'greedy', step: 1, view: 'cross',
      selection: { cross: { layer: 2, head: 2 } }, row: null, maskOrder: 'query-key',
      inside: { layer: 2, head: 2, kind: 'cross', stage: STAGE('weights'), counterpart: false, box: 'cross' },
    }),
    callout: { kind: 'inside', stage: 'weights', col: (f) => f.top.col },
    facts({ trace, c }) {
      const H = trace.inside[0].layers[2].heads[2].cross;
      const scores = Array.from(H.scaled);
      const top = argmax(H.weights);
      const second = argmax(scores.map((s, j) => (j === top ? -Infinity : s)));
      // the letter the text compares with the top one: the first letter (knight's silent k), unless that is the top
      const other = top === 0 ? second : 0;
      const letter = (j) => ({ letter: trace.input[j], w: H.weights[j], s: scores[j] });
      return {
        dk: c.d_model / c.n_heads, wrote: trace.produced[0], scaledStage: STAGE('scaled') + 1,
        top: { ...letter(top), col: top }, other: { ...letter(other), col: other }, second: { ...letter(second), col: second },
      };
    },
    text: (f) => [
      `“Open the box”, below the matrices, shows every number of one step. Here: one head of cross-attention, ${where(2, 2)}, ` +
        `as position 0 (reads <s>) writes ${f.wrote}. Its query q is dotted with the key of each letter (q · k), divided by ` +
        `√d_k = √${f.dk}, and the softmax turns those scores into the weights of the heatmap's row.`,
    ],
    calloutText: (f) => `The softmax puts ${f2(f.top.w)} on ${f.top.letter} and ${f2(f.other.w)} on ${f.other.letter}` +
      `${f.other.letter === 'k' && f.other.col === 0 && f.other.w < 0.005 ? ': the silent k of knight gets nothing' : ''}.`,
    question: (f) => `Look at sub-step ${f.scaledStage}, ÷ √d_k, just above: what scores do ${f.top.letter} and ${f.other.letter} get, ` +
      `and how does that gap become weights of ${f2(f.top.w)} and ${f2(f.other.w)}?`,
    answer: (f) => {
      const gap = printedGap(f.top.s, f.other.s);
      const gap2 = printedGap(f.top.s, f.second.s);
      return `${f.top.letter} scores ${f2(f.top.s)}, ${f.other.letter} ${f2(f.other.s)}: a gap of ${f2(gap)}. The softmax takes e to the power of ` +
        `each score, so ${f.top.letter} weighs e^${f2(gap)} ≈ ${times(Math.exp(gap))} times as much as ${f.other.letter}` +
        (f.second.col !== f.other.col ? `; even the next best letter, ${f.second.letter} (${f2(f.second.s)}), weighs ${times(Math.exp(gap2))} times less` : '') +
        `. Divided by the sum over all the letters, ${f.top.letter} keeps ${f2(f.top.w)}.`;
    },
  },

  {
    id: 'encoder-decoder-attention',
    title: 'Encoder–decoder attention',
    dock: 'left',  // the experiment is in the grid of heads, on the right of a wide screen
    state: () => ({
      word: 'phoenix', mode: 'steps', strategy: 'greedy', step: 1, view: 'cross',
      selection: { cross: { layer: 2, head: 1 } }, row: null, maskOrder: 'query-key',
    }),
    callout: { kind: 'cell', view: 'cross', layer: 2, head: 1, row: 0, col: (f) => f.col },
    facts({ trace }) {
      const shown = trace.cross[2][1][0];
      const other = trace.cross[1][2][0];
      const col = argmax(shown);
      const otherCol = argmax(other);
      return {
        col, letter: trace.input[col], w: shown[col], wrote: trace.produced[0],
        otherCol, otherLetter: trace.input[otherCol], otherW: other[otherCol],
        pair: trace.input.slice(Math.min(col, otherCol), Math.max(col, otherCol) + 1).join(''),
      };
    },
    text: () => [
      'Cross-attention, the encoder–decoder attention, is where spelling meets sound: each row, a decoder position, weighs the ' +
        'encoder\'s reading of every letter of the word, the columns. Its queries come from the decoder; its keys and values from ' +
        'the encoder, computed once for the whole word.',
    ],
    calloutText: (f) => `Writing ${f.wrote} for phoenix, ${where(2, 1)} puts ${f2(f.w)} on ${f.letter}.`,
    question: (f) => `In the grid of heads, click L2 · H3 (${where(1, 2)}): which letter does it read while writing ${f.wrote}?`,
    answer: (f) => `${f.otherLetter}, with ${f2(f.otherW)}. ` + (f.otherCol !== f.col && Math.abs(f.otherCol - f.col) === 1
      ? `Two heads, one letter each: between them they read “${f.pair}”, and the decoder writes one phoneme for both, ${f.wrote}.`
      : f.otherCol === f.col ? 'Both heads read the same letter.' : `The two heads read different letters for one phoneme, ${f.wrote}.`),
  },

  {
    id: 'autoregressive-generation',
    title: 'Autoregressive generation',
    state: () => ({
      word: 'phoenix', mode: 'steps', strategy: 'greedy', step: 5, view: 'cross',
      selection: { cross: { layer: 2, head: 1 } }, row: null, maskOrder: 'query-key',
    }),
    callout: { kind: 'cell', view: 'cross', layer: 2, head: 1, row: (f) => f.row, col: (f) => f.col },
    facts({ trace, run }) {
      const row = trace.queries.length - 1;
      const col = argmax(trace.cross[2][1][row]);
      const next = run({ step: row + 2 });
      const nextRow = row + 1;
      const nextCol = argmax(next.cross[2][1][nextRow]);
      const strongest = strongestHead(next.cross, nextRow, col);
      return {
        steps: trace.queries.length, row, col, letter: trace.input[col], w: trace.cross[2][1][row][col],
        written: trace.produced.join(' '), wrote: trace.produced[row], reads: trace.queries[row],
        nextWrites: next.produced[nextRow], nextCol, nextLetter: next.input[nextCol], nextW: next.cross[2][1][nextRow][nextCol],
        strongest,
      };
    },
    text: (f) => [
      'The decoder writes one phoneme per step and feeds it back in as the next position\'s input: autoregressive generation. ' +
        'The bottom of the diagram shows what it reads, its own output so far; the scrubber and ← go back. ' +
        `After ${f.steps} steps, the output so far is ${f.written}.`,
    ],
    calloutText: (f) => `Writing ${f.wrote} (row ${f.row}), ${where(2, 1)} puts ${f2(f.w)} on ${f.letter}.`,
    question: (f) => `Press Step →. The new row reads ${f.wrote}: what does it write, and which letter does this head look at?`,
    answer: (f) => `It writes ${f.nextWrites}, and this head puts ${f2(f.nextW)} on ${f.nextLetter}` +
      (f.nextCol === f.col
        ? ` again; ${f.strongest.layer === 2 && f.strongest.head === 1 ? 'no head puts more' : `${where(f.strongest.layer, f.strongest.head)} puts ${f2(f.strongest.weight)}`}. ` +
          `One letter, two phonemes: ${f.letter} → ${f.wrote} ${f.nextWrites}. The letters and the encoder are the same as a step ago; what changed is the decoder's input: the new position reads ${f.wrote}, what it has already written.`
        : '.'),
  },

  {
    id: 'causal-mask',
    title: 'The causal mask',
    dock: 'left',  // the experiment: layers 1 and 3 in the grid of heads, on the right of a wide screen
    state: ({ words, ownOutput }) => ({
      word: 'knight', mode: 'teacher', strategy: 'greedy', causal: true,
      target: dictionary(words, 'knight') ?? ownOutput('knight'), view: 'mask',
      selection: { self: { layer: 0, head: 'mean' } }, row: null, maskOrder: 'query-key',
    }),
    callout: { kind: 'cell', view: 'mask', row: 0, col: 1 },
    facts({ trace, run }) {
      const open = run({ causal: false });
      const n = trace.queries.length;
      // Per layer: the rows whose weights change when the mask is switched off (any head, beyond rounding).
      const change = (l, i) => Math.max(...trace.self[l].map((head, h) => Math.max(...Array.from(head[i], (x, j) => Math.abs(x - open.self[l][h][i][j])))));
      const layers = trace.self.map((_, l) => Array.from({ length: n }, (_, i) => change(l, i)));
      const same = layers.map((rows) => rows.flatMap((d, i) => (d <= 1e-6 ? [i] : [])));
      const first = layers[0];
      return {
        queries: trace.queries, n, layers: layers.length,
        sameFirst: same[0], sameLast: same.at(-1),
        mostFirst: argmax(first),
      };
    },
    text: (f) => [
      `Teacher forcing feeds the whole reference at once, one row per position (${f.queries.join(' ')}), and computes every row in one parallel pass. ` +
        `Unmasked, row 0 could read ${f.queries[1]}, the very phoneme it must predict. The causal mask adds −∞ to every score ` +
        'above the diagonal (a key after its query), and the softmax turns e^−∞ into a weight of exactly 0.',
    ],
    calloutText: (f) => `Row 0 (${f.queries[0]}) may look at itself only: M[0][1] = −∞ hides ${f.queries[1]}.`,
    question: (f) => `Switch the causal mask off (its switch comes with Teacher forcing), then open Masked self-attention: in layer 1, which rows change? And in layer ${f.layers}?`,
    answer: (f) => {
      const last = f.n - 1;
      const parts = [];
      if (f.sameFirst.length === 1 && f.sameFirst[0] === last) {
        parts.push(`In layer 1 every row changes but the last, row ${last} (reads ${f.queries[last]}): it already saw every position, so the mask hid nothing from it.`);
      } else {
        parts.push(`In layer 1 the rows that stay the same: ${f.sameFirst.length ? f.sameFirst.join(', ') : 'none'}.`);
      }
      if (!f.sameFirst.includes(0)) parts.push(`Row 0, which saw only ${f.queries[0]}, now sees the whole reference, ${f.queries[1]} included${f.mostFirst === 0 ? ': it changes most' : ''}.`);
      if (f.layers >= 3) {
        parts.push(f.sameLast.length === 0
          ? `In layer ${f.layers} every row changes, the last one too: its keys and values come from the rows of the layer below, which now saw the future.`
          : `In layer ${f.layers} the rows that stay the same: ${f.sameLast.join(', ')}.`);
      }
      parts.push('Stepping needs no mask at all: its KV cache holds only the positions already written.');
      return parts.join(' ');
    },
  },

  {
    id: 'teacher-forcing',
    title: 'Teacher forcing vs inference',
    state: ({ words, ownOutput }) => ({
      word: 'queue', mode: 'teacher', strategy: 'greedy', causal: true,
      target: dictionary(words, 'queue') ?? ownOutput('queue'), view: 'self',
      selection: { self: { layer: 2, head: 'mean' } }, row: 1, maskOrder: 'query-key',
    }),
    callout: { kind: 'bar', row: 1, token: (f) => f.fed },
    facts({ trace, model, run, words }) {
      const dist = trace.dist[1];
      const top = argmax(dist.probs);
      const greedy = run({ mode: 'steps', step: 'end' });
      const fedId = dist.chosen;
      return {
        reference: trace.teacher.target, fromDictionary: dictionary(words, 'queue') === trace.teacher.target,
        reads: trace.queries[1], fed: trace.produced[1], pFed: dist.probs[fedId],
        top: model.targetTokens[top], pTop: dist.probs[top], agrees: top === fedId,
        greedy: greedy.produced.filter((t) => t !== '</s>').join(' '),
        greedySecond: greedy.produced[1],
      };
    },
    text: (f) => [
      `Training does not let the model read its own guesses: teacher forcing feeds the reference, here ${f.fromDictionary ? 'the dictionary\'s ' : ''}` +
        `${f.reference} for queue, and scores the model's prediction at every position at once. The matrices show row 1 (reads ${f.reads}); ` +
        'the bars under “Next token” are its next-token probabilities.',
    ],
    calloutText: (f) => (f.agrees
      ? `The model's top choice is ${f.fed} (p = ${f2(f.pFed)}), the reference's next phoneme too.`
      : `The model gives ${f.top} p = ${f2(f.pTop)} and ${f.fed} p = ${f2(f.pFed)}; row 2 reads ${f.fed} all the same, because the reference says so.`),
    question: () => 'Switch Mode to Step by step (the page decodes the word to its end, each step reading the phoneme the model chose): what does it write?',
    answer: (f) => `${f.greedy}.` + (f.greedySecond !== f.fed
      ? ` After ${f.reads} it chose ${f.greedySecond}, its top choice, and from then on it read ${f.greedySecond}, not ${f.fed}: at inference nothing corrects it. ` +
        'Teacher forcing never shows the model its own mistakes; that gap between training and inference is called exposure bias.'
      : ' It wrote the reference\'s next phoneme too.'),
  },

  {
    id: 'greedy-vs-beam',
    title: 'Greedy vs beam search',
    state: () => ({
      word: 'queue', mode: 'steps', strategy: 'beam', beamWidth: 5, step: 'end', view: 'cross',
      selection: { cross: { layer: 2, head: 'mean' } }, row: null, maskOrder: 'query-key',
    }),
    callout: { kind: 'beam', index: 0, value: (f) => f.best.score, label: (f) => f3(f.best.score) },
    facts({ trace, run, words }) {
      const results = trace.beams.results.map((h) => ({ text: h.text, logProb: h.logProb, score: h.score }));
      const greedy = run({ strategy: 'greedy', step: 'end' });
      const greedyText = greedy.produced.filter((t) => t !== '</s>').join(' ');
      const rank = results.findIndex((h) => h.text === greedyText);
      // where greedy and the best hypothesis part: the first phoneme they disagree on
      const best = results[0];
      const bestTokens = best.text.split(' ');
      const at = greedy.produced.findIndex((t, i) => t !== bestTokens[i]);
      const dist = greedy.dist[at];
      const tokens = greedy.tokens;
      return {
        width: 5, results, best, greedy: greedyText, rank, greedyHyp: results[rank] ?? null,
        dictionary: dictionary(words, 'queue'),
        at, after: greedy.produced.slice(0, at).join(' '), greedyChose: greedy.produced[at], bestChose: bestTokens[at],
        pGreedy: dist ? dist.probs[dist.chosen] : null, pBest: dist ? dist.probs[tokens.indexOf(bestTokens[at])] : null,
      };
    },
    text: (f) => [
      'Greedy decoding takes the most likely phoneme at every step and never looks back. Beam search keeps the ' +
        `${f.width} best partial pronunciations alive at every step and ranks the finished ones by their log-probability divided by their length (the score).`,
    ],
    calloutText: (f) => `Ranked first: ${f.best.text}, score ${f3(f.best.score)}.`,
    question: () => 'Switch Decoding to Greedy (the page decodes the word to the end again): what does it write, and where does beam search rank that?',
    answer: (f) => {
      if (f.greedy === f.best.text) return `${f.greedy}, the same as beam search's best: here looking ahead changes nothing.`;
      const ranked = f.greedyHyp ? `, ranked ${['first', 'second', 'third', 'fourth', 'fifth'][f.rank] ?? `number ${f.rank + 1}`} by beam search (score ${f3(f.greedyHyp.score)})` : ', which beam search did not keep';
      return `${f.greedy}${ranked}. After ${f.after}, greedy took ${f.greedyChose} (p = ${f2(f.pGreedy)}) over ${f.bestChose} (p = ${f2(f.pBest)}) and could not go back; ` +
        `beam search kept ${f.after} ${f.bestChose} alive, and ` +
        (f.greedyHyp && f.best.logProb > f.greedyHyp.logProb
          ? `that path is the more likely as a whole: log-probability ${f2(f.best.logProb)} against ${f2(f.greedyHyp.logProb)}.`
          : 'that path scores better once divided by its length.') +
        (f.dictionary === f.best.text ? ' It is also the dictionary\'s pronunciation.' : '');
    },
  },
];

/** The settings a DecoderSession takes for a stop's state (the page's defaults for the rest). */
export function sessionSettings(state, target) {
  return {
    mode: state.mode ?? 'steps', strategy: state.strategy ?? 'greedy', temperature: 1, topK: 0, topP: 1, seed: 1,
    beamWidth: state.beamWidth ?? 4, causal: state.causal ?? true, target,
  };
}

/**
 * A stop's state run through `model` afresh: its trace (plain arrays: the session is disposed), as the page
 * shows it once the stop is applied. The target for teacher forcing is the state's.
 */
export function runState(model, state) {
  const session = new DecoderSession(model, state.word, sessionSettings(state, state.target));
  try {
    if (session.trace.mode === 'steps') {
      while (!session.done && (state.step === 'end' || session.steps < (state.step ?? 0))) session.step();
    }
    return { ...session.trace, tokens: model.targetTokens };
  } finally {
    session.dispose();
  }
}

/** The facts of stop `index` for `model` (computed afresh: a few small decodes). */
export function stopFacts(index, model, words) {
  const stop = STOPS[index];
  const c = model.config;
  const state = stopState(index, model, words);
  const trace = runState(model, state);
  const run = (change) => runState(model, { ...state, ...change });
  return stop.facts({ trace, model, c, words, run });
}

/** Stop `index`'s state for `model` (what applyState takes, less the model and the stop number). */
export function stopState(index, model, words) {
  const ownOutput = (word) => {
    const run = model.start(word, { strategy: 'greedy' });
    try {
      return run.complete();
    } finally {
      run.dispose();
    }
  };
  return STOPS[index].state({ c: model.config, words, ownOutput });
}

/** A callout's fields with the functions among them evaluated on the facts. */
export function resolveCallout(stop, facts) {
  return Object.fromEntries(Object.entries(stop.callout).map(([k, v]) => [k, typeof v === 'function' ? v(facts) : v]));
}

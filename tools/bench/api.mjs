// Stepwise through its public JavaScript API (web/stepwise.js over build-wasm/stepwise-wasm.js), as the
// page runs it: model.start(word) then run.step() until done -- every step also builds the typed-array
// views of the probabilities and attention rows the page draws. Shared by Node and the Chromium page.
import { rate, scaled, timeCalls } from './timing.mjs';

/** Stepwise: the web/stepwise.js namespace; words: input texts; targets: teacher-forced target texts. */
export async function runApiBenchmark(Stepwise, bytes, words, targets, { maxLength = 0, ...timing }) {
  const model = await Stepwise.load(bytes, { name: 'model' });
  const outputs = [];
  let tokens = 0;
  const greedyPass = () => {
    tokens = 0;
    outputs.length = 0;
    for (const word of words) {
      const run = model.start(word, { maxLength });
      while (!run.done) run.step();
      outputs.push(run.ids.slice());
      tokens += run.ids.length;
      run.dispose();
    }
  };
  const greedy = await timeCalls(greedyPass, timing);
  // The teacher-forced pass on runs started (encoded) once: run.forward() repeats encoder and decoder.
  // Skipped when no targets are given (the JS API takes phonemes as text, special tokens excluded).
  let forward = null;
  let firstLogits = null;
  if (targets.length) {
    const runs = words.map((word) => model.start(word));
    forward = await timeCalls(() => runs.forEach((run, i) => run.forward(targets[i])), timing);
    firstLogits = Array.from(runs[0].forward(targets[0]).logits);
    runs.forEach((run) => run.dispose());
  }
  model.dispose();
  return {
    kernels: (await Stepwise.info()).kernels,
    greedy: {
      words: words.length,
      tokens,
      us_per_token: scaled(greedy, 1e6 / tokens),
      tokens_per_s: rate(greedy, tokens),
      words_per_s: rate(greedy, words.length),
      outputs,
    },
    forward: forward && { words: words.length, us_per_word: scaled(forward, 1e6 / words.length) },
    first_logits: firstLogits,
  };
}

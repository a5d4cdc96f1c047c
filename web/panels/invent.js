// "Invent a word" in the word card, for a decoder-only G2P model: the model steps from <s> alone,
// sampling (temperature 1, the seed shown) letters, <sep> and a pronunciation (web/session.js); once it is
// written, the page says whether it is new (no CMUdict headword; about one in five samples is a real word)
// and a button reads it with the encoder-decoder, for comparison.
import { Memo, setProperty, setText } from './util.js';

export function create(root, store) {
  const box = root.querySelector('#invent');
  const button = root.querySelector('#invent-button');
  const seed = root.querySelector('#invent-seed');
  const result = root.querySelector('#invent-result');
  const pronounce = root.querySelector('#invent-pronounce');
  button.addEventListener('click', () => store.actions.invent(seed.value.trim() === '' ? NaN : Number(seed.value)));
  pronounce.addEventListener('click', () => store.actions.pronounceInvented());
  const memo = new Memo();
  return {
    update(trace) {
      const { model, loading, session, models } = store.state;
      const offered = Boolean(model && !model.encoderDecoder && model.config.target_vocab.sep);
      setProperty(box, 'hidden', !offered);
      setProperty(button, 'disabled', Boolean(loading));
      if (!offered || !memo.changed(trace, trace?.stepMs.length, store.state.headwords, store.state.playing)) return;
      const invented = trace?.invented ? session.invented() : null;
      const readers = models.filter((m) => m.builtin && m.model?.encoderDecoder);
      // (before the first step, and after Back or the scrubber, nothing is being written: the word so far)
      const steps = trace?.stepMs.length ?? 0;
      setText(result, !invented ? '' : steps === 0 ? `from <s> alone, seed ${session.settings.seed}: Step → or Play writes a word`
        : !trace.done ? (store.state.playing ? `writing “${invented.word}”…` : `so far “${invented.word}”…`)
        : invented.wellFormed ? written(invented, session.settings.seed, store.state.headwords)
          : `not a word this time (no letters, <sep>, phonemes, </s>): try another seed`);
      const offer = Boolean(invented && trace.done && invented.wellFormed && readers.length);
      setProperty(pronounce, 'hidden', !offer);
      if (offer) setText(pronounce, `Pronounce “${invented.word}” with the encoder–decoder`);
    },
  };
}

/**
 * What the model wrote, said truly: "invented" only for a word that is no CMUdict headword. A real word is
 * named as one, with its split: a train word the model saw while training; a dev or test word it never saw
 * and rebuilt from spelling patterns. headwords: Map word -> split, null while being read, false if unreadable.
 */
export function written({ word, phonemes }, seed, headwords) {
  const what = `“${word}” /${phonemes}/ (seed ${seed})`;
  if (headwords === null) return `wrote ${what}; looking it up in CMUdict…`;
  if (!(headwords instanceof Map)) return `wrote ${what} (the headword list could not be read, so whether it is new is not known)`;
  const split = headwords.get(word);
  if (!split) return `invented ${what}: no CMUdict headword`;
  if (split === 'train') return `wrote ${what}: not new, a CMUdict headword from the training split, which the model saw`;
  return `wrote ${what}: a real word (CMUdict's ${split} split) that the model never saw, made again from spelling patterns`;
}

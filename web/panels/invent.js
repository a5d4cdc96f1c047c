// "Invent a word" in the word card, for a decoder-only G2P model: the model steps from <s> alone,
// sampling (temperature 1, the seed shown) letters, <sep> and a pronunciation (web/session.js); once it is
// written, a button reads the invented word with the encoder-decoder, for comparison.
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
      if (!offered || !memo.changed(trace, trace?.stepMs.length)) return;
      const invented = trace?.invented ? session.invented() : null;
      const readers = models.filter((m) => m.builtin && m.model?.encoderDecoder);
      setText(result, !invented ? '' : !trace.done ? `writing “${invented.word}”…`
        : invented.wellFormed ? `invented “${invented.word}” /${invented.phonemes}/ (seed ${trace.invented && session.settings.seed})`
          : `not a word this time (no letters, <sep>, phonemes, </s>): try another seed`);
      const offer = Boolean(invented && trace.done && invented.wellFormed && readers.length);
      setProperty(pronounce, 'hidden', !offer);
      if (offer) setText(pronounce, `Pronounce “${invented.word}” with the encoder–decoder`);
    },
  };
}

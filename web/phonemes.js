// What the G2P model's output tokens mean: ARPAbet, the phoneme alphabet of the CMU Pronouncing
// Dictionary (39 phonemes; each vowel carries a stress digit, 0, 1 or 2), plus the model's own special
// tokens. Each phoneme has an everyday English word with the letters that make its sound in [brackets]
// (checked against CMUdict by tests/browser/explain.test.mjs) and a few words on how it sounds.
//
// A model whose vocabulary is not ARPAbet (one a user loads) gets no explanations at all: see
// explainerFor(). No DOM here.

/** Vowels: kind 'vowel'; consonants: kind 'consonant'. word: the example, the sound's letters in [ ]. */
export const PHONEMES = {
  AA: { kind: 'vowel', word: 'f[a]ther', note: 'an open “ah”' },
  AE: { kind: 'vowel', word: 'c[a]t', note: 'the short a' },
  AH: { kind: 'vowel', word: 'c[u]p', note: 'the short u', unstressed: { word: '[a]bout', note: 'the schwa, the weak “uh” of unstressed syllables' } },
  AO: { kind: 'vowel', word: 'th[ou]ght', note: 'an “aw”' },
  AW: { kind: 'vowel', word: 'c[ow]', note: 'a glide from “ah” to “oo”' },
  AY: { kind: 'vowel', word: 'b[i]te', note: 'a glide from “ah” to “ee”' },
  EH: { kind: 'vowel', word: 'b[e]d', note: 'the short e' },
  ER: { kind: 'vowel', word: 'b[ir]d', note: 'a vowel coloured by r' },
  EY: { kind: 'vowel', word: 'd[ay]', note: 'a glide from “eh” to “ee”' },
  IH: { kind: 'vowel', word: 's[i]t', note: 'the short i' },
  IY: { kind: 'vowel', word: 's[ee]', note: 'a long “ee”' },
  OW: { kind: 'vowel', word: 'g[o]', note: 'a glide from “oh” to “oo”' },
  OY: { kind: 'vowel', word: 'b[oy]', note: 'a glide from “aw” to “ee”' },
  UH: { kind: 'vowel', word: 'b[oo]k', note: 'the short oo' },
  UW: { kind: 'vowel', word: 'f[oo]d', note: 'a long “oo”' },
  B: { kind: 'consonant', word: '[b]at', note: 'both lips closed, then released, voiced' },
  CH: { kind: 'consonant', word: '[ch]in', note: 't and sh run together, voiceless' },
  D: { kind: 'consonant', word: '[d]og', note: 'the tongue tip stops the air, voiced' },
  DH: { kind: 'consonant', word: '[th]is', note: 'the voiced th' },
  F: { kind: 'consonant', word: '[f]an', note: 'air between the lower lip and the teeth' },
  G: { kind: 'consonant', word: '[g]o', note: 'the hard g, voiced' },
  HH: { kind: 'consonant', word: '[h]at', note: 'a breath' },
  JH: { kind: 'consonant', word: '[j]am', note: 'd and zh run together, voiced' },
  K: { kind: 'consonant', word: '[k]ite', note: 'the back of the tongue stops the air, voiceless' },
  L: { kind: 'consonant', word: '[l]eg', note: 'air around the sides of the tongue' },
  M: { kind: 'consonant', word: '[m]ap', note: 'lips closed, air through the nose' },
  N: { kind: 'consonant', word: '[n]ose', note: 'the tongue tip up, air through the nose' },
  NG: { kind: 'consonant', word: 'si[ng]', note: 'the back of the tongue up, air through the nose' },
  P: { kind: 'consonant', word: '[p]en', note: 'both lips closed, then released, voiceless' },
  R: { kind: 'consonant', word: '[r]ed', note: 'the English r' },
  S: { kind: 'consonant', word: '[s]un', note: 'a hiss, voiceless' },
  SH: { kind: 'consonant', word: '[sh]ip', note: 'a hush, voiceless' },
  T: { kind: 'consonant', word: '[t]op', note: 'the tongue tip stops the air, voiceless' },
  TH: { kind: 'consonant', word: '[th]in', note: 'the voiceless th' },
  V: { kind: 'consonant', word: '[v]an', note: 'the voiced partner of f' },
  W: { kind: 'consonant', word: '[w]et', note: 'rounded lips gliding into the vowel' },
  Y: { kind: 'consonant', word: '[y]es', note: 'the tongue near “ee” gliding into the vowel' },
  Z: { kind: 'consonant', word: '[z]oo', note: 'the buzzing partner of s' },
  ZH: { kind: 'consonant', word: 'mea[s]ure', note: 'the voiced partner of sh' },
};

/** A vowel's stress digit. */
export const STRESS = { 0: 'no stress', 1: 'primary stress', 2: 'secondary stress' };

/** The note on stress digits, shown once near the output. */
export const STRESS_NOTE = 'ARPAbet phonemes, as in CMUdict. The digit on a vowel is its stress: 0 no stress, 1 primary stress, 2 secondary stress.';
/** The same, for a decoder-only G2P model, whose one sequence holds the letters and <sep> before the phonemes. */
export const STRESS_NOTE_AFTER_SEP = 'After <sep>: ARPAbet phonemes, as in CMUdict. The digit on a vowel is its stress: 0 no stress, 1 primary stress, 2 secondary stress.';

/** The special tokens, by their role in the model's vocabulary (ModelConfig: target_vocab.bos, ...). */
const SPECIAL_ROLES = {
  bos: 'start of sequence: the first token the decoder reads',
  eos: 'end of sequence: choosing it ends the pronunciation',
  pad: 'padding: fills out the shorter sequences of a training batch; not a sound',
  sep: 'separator: ends the letters of the prompt; the phonemes follow it',
};

/** 'b[i]te' -> { before: 'b', sound: 'i', after: 'te', text: 'bite' }. */
export function splitExample(word) {
  const match = /^([^[\]]*)\[([^[\]]+)\]([^[\]]*)$/.exec(word);
  if (!match) throw new Error(`phonemes.js: an example needs one [marked] part, got ${word}`);
  const [, before, sound, after] = match;
  return { before, sound, after, text: before + sound + after };
}

/**
 * The explanation of one ARPAbet token ('AY1', 'B'), or null when it is not one:
 * { token, kind: 'vowel' | 'consonant', base, stress (0/1/2, or null for a consonant), example
 * (splitExample()), note, stressText, text (one sentence, for title and aria-description) }.
 */
export function explainPhoneme(token) {
  const match = /^([A-Z]{1,2})([012]?)$/.exec(String(token));
  if (!match) return null;
  const [, base, digit] = match;
  const entry = Object.hasOwn(PHONEMES, base) ? PHONEMES[base] : null;
  if (!entry) return null;
  const vowel = entry.kind === 'vowel';
  if (vowel !== (digit !== '')) return null;  // a vowel always carries its stress, a consonant never
  const stress = vowel ? Number(digit) : null;
  const which = stress === 0 && entry.unstressed ? entry.unstressed : entry;
  const example = splitExample(which.word);
  const stressText = vowel ? STRESS[stress] : null;
  const text = `${token}: the ${entry.kind} of “${example.text}” (${which.note})${vowel ? `, ${stressText}` : ''}`;
  return { token, kind: entry.kind, base, stress, example, note: which.note, stressText, text };
}

/** True for a vocabulary (a list of token strings) written in ARPAbet: see explainerFor(). */
export function isArpabet(tokens, specials = []) {
  let vowels = 0;
  for (const token of tokens) {
    if (specials.includes(token)) continue;
    if (/^[A-Z]/.test(token) && !explainPhoneme(token)) return false;  // capitals that are not ARPAbet
    if (/^[A-Z]{2}[012]$/.test(token) && explainPhoneme(token)) vowels++;
  }
  return vowels > 0;
}

const explainers = new WeakMap();

/**
 * For a model (web/stepwise.js Model): token string -> explanation, or null. An explanation is
 * explainPhoneme()'s, or for the model's own special tokens { token, kind: 'special', text }. A vocabulary
 * that is not ARPAbet (it has no stressed vowel, or capitalised tokens that are no phoneme: the letters
 * A-Z, say) explains nothing: the page invents no meaning for a model it does not know.
 */
export function explainerFor(model) {
  if (!model) return () => null;
  if (explainers.has(model)) return explainers.get(model);
  const vocab = model.config?.target_vocab ?? {};
  const tokens = model.targetTokens ?? vocab.tokens ?? [];
  const roles = Object.entries(SPECIAL_ROLES).filter(([role]) => typeof vocab[role] === 'string' && vocab[role] !== '');
  const specials = new Map(roles.map(([role, meaning]) => [vocab[role], meaning]));
  const known = isArpabet(tokens, [...specials.keys()]);
  const cache = new Map();
  const explain = (token) => {
    if (!known || typeof token !== 'string') return null;
    if (cache.has(token)) return cache.get(token);
    let result = null;
    if (specials.has(token)) result = { token, kind: 'special', text: `${token}: ${specials.get(token)}` };
    else if (tokens.includes(token)) result = explainPhoneme(token);
    cache.set(token, result);
    return result;
  };
  explain.arpabet = known;
  explainers.set(model, explain);
  return explain;
}

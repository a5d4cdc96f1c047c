"""Character n-gram language model over spellings, with interpolated Kneser-Ney smoothing.

This is the baseline for the decoder-only Transformer's spelling half (`<s> letters <sep>`): how many bits
per letter a well-smoothed count model needs for a CMUdict headword. The definition of the number, used
by tools/spelling_baseline.py and to be used for the Transformer too:

    A word w = c1..cn is scored as P(c1..cn, </w>) = prod_{i=1..n+1} P(c_i | c_{i-N+1}..c_{i-1}), with
    c_{n+1} = </w> and the context padded on the left with N-1 start symbols <s> (N = the order), so the
    first letter is predicted from <s>...<s> alone and the end symbol is predicted like a letter.

    bits per letter = -sum_words log2 P(w, </w>) / sum_words (n + 1)

The +1 counts the end symbol, because the Transformer likewise predicts the separator that ends a spelling.
The start symbol is never predicted. The vocabulary V that every distribution is over is the alphabet
(the characters given to the constructor plus every character seen in training) and </w>.

Smoothing: interpolated Kneser-Ney as in Chen & Goodman (1998), "An empirical study of smoothing
techniques for language modeling", section 3.5 (and 4.1.6 for the modified variant). For the level-k
distribution (k characters: a context h of k-1 characters, then w):

    P_k(w | h) = ( max(a_k(hw) - D_k(a_k(hw)), 0) + gamma_k(h) * P_{k-1}(w | h') ) / sum_v a_k(hv)
    gamma_k(h) = D_k(1) N_1(h.) + D_k(2) N_2(h.) + D_k(3) N_3+(h.)
    P_0(w)     = 1 / |V|                               (the uniform floor)

where h' is h without its first character, N_j(h.) is the number of w with a_k(hw) == j (N_3+: >= 3), and
a context never seen at level k backs off entirely: P_k(w | h) = P_{k-1}(w | h'). The counts a_k are

  * at the highest level (k = N): raw counts c(hw) in the padded training words;
  * at lower levels (k < N): continuation counts N_1+(.hw), the number of distinct characters seen just
    before hw. With N-1 start symbols of padding every lower-order occurrence has a left neighbour, so
    these are exactly the counts of distinct (k+1)-gram types ending in hw.

Discounts, estimated per level from the counts of counts n_j (the number of k-grams with a_k == j) of the
counts that level actually uses (raw at the top, continuation below, as SRILM and KenLM do):

  * `modified=False` (the default; "interpolated Kneser-Ney"): one absolute discount per level,
        D = n1 / (n1 + 2 n2), used for every count (D_k(1) = D_k(2) = D_k(3) = D).
  * `modified=True` ("modified Kneser-Ney"): Y = n1 / (n1 + 2 n2) and
        D1 = 1 - 2Y n2/n1,  D2 = 2 - 3Y n3/n2,  D3+ = 3 - 4Y n4/n3.

Where the counts of counts make an estimate undefined or out of range (0 < D_j <= j), e.g. on a tiny corpus
or at the unigram level of 30 characters where n1 is often 0, that level uses KenLM's `--discount_fallback`
values instead: 0.5 (standard) or 0.5, 1.0, 1.5 (modified); `discount_fallback` lists such levels. Every
discount is then > 0, so every distribution gives the uniform floor positive weight: every character of V
has probability > 0 in every context, including characters never seen in training.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

START = "\x02"  # <s>, left padding; never predicted
END = "\x03"    # </w>, predicted after the last letter
CMUDICT_ALPHABET = "'-.abcdefghijklmnopqrstuvwxyz"  # every character of a CMUdict headword in data/cmudict
FALLBACK_STANDARD = (0.5, 0.5, 0.5)
FALLBACK_MODIFIED = (0.5, 1.0, 1.5)


def estimate_discounts(counts: Iterable[int], modified: bool) -> tuple[tuple[float, float, float], bool]:
    """(D1, D2, D3+) from one level's counts (Chen & Goodman 1998), and whether the fallback was used."""
    n = Counter(c for c in counts if 1 <= c <= 4)
    n1, n2, n3, n4 = n[1], n[2], n[3], n[4]
    if n1 == 0:
        return (FALLBACK_MODIFIED if modified else FALLBACK_STANDARD), True
    y = n1 / (n1 + 2 * n2)
    if not modified:
        return (y, y, y), False  # 0 < y <= 1 because n1 > 0
    if n2 == 0 or n3 == 0:
        return FALLBACK_MODIFIED, True
    d = (1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3)
    if not all(0 < dj <= j for j, dj in enumerate(d, 1)):
        return FALLBACK_MODIFIED, True
    return d, False


class CharNgramKN:
    """A character N-gram model of whole words with interpolated (optionally modified) Kneser-Ney smoothing.

    fit(words) counts once per word given (pass each headword once); log2prob(word) is log2 P(word, </w>);
    prob(w, history) is one conditional (history: the characters before w, unpadded; w may be END).
    """

    def __init__(self, order: int = 5, modified: bool = False, alphabet: Iterable[str] = CMUDICT_ALPHABET):
        if order < 1:
            raise ValueError(f"order must be >= 1, got {order}")
        self.order = order
        self.modified = modified
        self.alphabet = set(alphabet)
        for ch in self.alphabet:
            if len(ch) != 1 or ch in (START, END):
                raise ValueError(f"alphabet entries must be single characters other than START/END: {ch!r}")
        self.fitted = False

    # ---- training ------------------------------------------------------------------------------------------

    def fit(self, words: Iterable[str]) -> "CharNgramKN":
        n = self.order
        top: Counter = Counter()
        pad = START * (n - 1)
        for word in words:
            if START in word or END in word:
                raise ValueError(f"word contains a reserved control character: {word!r}")
            self.alphabet.update(word)
            s = pad + word + END
            for i in range(n - 1, len(s)):
                top[s[i - n + 1:i + 1]] += 1
        # levels[k] maps each k-gram (k-1 context characters + 1 predicted) to a_k: raw counts at the top,
        # continuation counts (distinct left neighbours = distinct (k+1)-gram types ending in it) below.
        levels: list[dict[str, int]] = [{}] * (n + 1)
        levels[n] = dict(top)
        for k in range(n - 1, 0, -1):
            levels[k] = dict(Counter(g[1:] for g in levels[k + 1]))
        self.vocab = sorted(self.alphabet) + [END]
        self._vocab_set = frozenset(self.vocab)
        self.counts = levels
        self.discounts: list[tuple[float, float, float]] = [(0.0, 0.0, 0.0)] * (n + 1)
        self.discount_fallback: list[int] = []
        # contexts[k][h] = (sum_v a_k(hv), gamma_k(h)): the denominator and the mass left for level k-1
        self.contexts: list[dict[str, tuple[int, float]]] = [{}] * (n + 1)
        for k in range(1, n + 1):
            d, fell_back = estimate_discounts(levels[k].values(), self.modified)
            self.discounts[k] = d
            if fell_back:
                self.discount_fallback.append(k)
            stats: dict[str, list[int]] = {}
            for gram, c in levels[k].items():
                st = stats.setdefault(gram[:-1], [0, 0, 0, 0])
                st[0] += c
                st[min(c, 3)] += 1
            self.contexts[k] = {h: (t, d[0] * n1 + d[1] * n2 + d[2] * n3) for h, (t, n1, n2, n3) in stats.items()}
        self.fitted = True
        return self

    # ---- scoring -------------------------------------------------------------------------------------------

    def _discount(self, k: int, c: int) -> float:
        return 0.0 if c == 0 else self.discounts[k][min(c, 3) - 1]

    def prob_at_level(self, k: int, w: str, context: str) -> float:
        """P_k(w | context): the level-k distribution (0 = uniform); uses the last k-1 context characters.

        context is already padded (START characters count as context); it must be at least k-1 long.
        """
        if not self.fitted:
            raise RuntimeError("fit() first")
        if k == 0:
            return 1.0 / len(self.vocab)
        h = context[len(context) - (k - 1):] if k > 1 else ""
        if len(h) != k - 1:
            raise ValueError(f"level {k} needs {k - 1} context characters, got {len(context)}")
        lower = self.prob_at_level(k - 1, w, h)
        st = self.contexts[k].get(h)
        if st is None:
            return lower
        total, gamma = st
        c = self.counts[k].get(h + w, 0)
        return (max(c - self._discount(k, c), 0.0) + gamma * lower) / total

    def prob(self, w: str, history: str = "") -> float:
        """P(w | the word's first characters `history`), the model's full-order conditional."""
        if not self.fitted:
            raise RuntimeError("fit() first")
        if w not in self._vocab_set:
            raise ValueError(f"{w!r} is outside the model's alphabet")
        context = (START * (self.order - 1) + history)[-(self.order - 1):] if self.order > 1 else ""
        return self.prob_at_level(self.order, w, context)

    def log2prob(self, word: str) -> float:
        """log2 P(word, </w>): every letter and the end symbol, each from N-1 characters of padded context."""
        n = self.order
        if not self.fitted:
            raise RuntimeError("fit() first")
        if not self._vocab_set.issuperset(word) or END in word:
            raise ValueError(f"{word!r} has characters outside the model's alphabet")
        s = START * (n - 1) + word + END
        total = 0.0
        for i in range(n - 1, len(s)):
            total += math.log2(self.prob_at_level(n, s[i], s[i - n + 1:i]))
        return total

    def bits_per_letter(self, words: Iterable[str]) -> tuple[float, int, float]:
        """(bits per letter, letters incl. one end symbol per word, total bits) over words (see module doc)."""
        bits = 0.0
        letters = 0
        for word in words:
            bits -= self.log2prob(word)
            letters += len(word) + 1
        return bits / letters, letters, bits

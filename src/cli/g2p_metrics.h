// Grapheme-to-phoneme metrics, defined exactly as tools/stepwise_py/metrics.py defines them:
//   WER: a word is correct when the output equals any of its reference pronunciations;
//   PER: edit distance to the closest reference (the first on a tie) over that reference's length,
//        summed over the split (total distance / total length);
//   the stress-stripped variants drop the digits 0/1/2 from output and references first.
#pragma once

#include <string>
#include <vector>

namespace stepwise::g2p {

using Phonemes = std::vector<std::string>;

Phonemes split_phonemes(const std::string& text);
Phonemes strip_stress(const Phonemes& p);
int edit_distance(const Phonemes& a, const Phonemes& b);

struct Score {
  int words = 0, word_errors = 0;
  long long distance = 0, length = 0;
  double wer() const { return words ? static_cast<double>(word_errors) / words : 0.0; }
  double per() const { return length ? static_cast<double>(distance) / static_cast<double>(length) : 0.0; }
  // Adds one word: the output against its reference pronunciations.
  void add(const Phonemes& output, const std::vector<Phonemes>& references, bool with_stress);
};

}  // namespace stepwise::g2p

#include "g2p_metrics.h"

#include <algorithm>
#include <sstream>

namespace stepwise::g2p {

Phonemes split_phonemes(const std::string& text) {
  std::istringstream in(text);
  Phonemes out;
  for (std::string p; in >> p;) out.push_back(p);
  return out;
}

Phonemes strip_stress(const Phonemes& p) {
  Phonemes out;
  for (std::string s : p) {
    s.erase(std::remove_if(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }), s.end());
    out.push_back(s);
  }
  return out;
}

int edit_distance(const Phonemes& a, const Phonemes& b) {
  std::vector<int> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j)
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(previous, current);
  }
  return previous[b.size()];
}

void Score::add(const Phonemes& output, const std::vector<Phonemes>& references, bool with_stress) {
  const Phonemes hyp = with_stress ? output : strip_stress(output);
  int best = -1;
  size_t best_length = 0;
  for (const Phonemes& r : references) {  // the closest reference; on a tie, the first
    const Phonemes ref = with_stress ? r : strip_stress(r);
    const int d = edit_distance(hyp, ref);
    if (best < 0 || d < best) best = d, best_length = ref.size();
  }
  ++words;
  word_errors += best != 0;
  distance += best;
  length += static_cast<long long>(best_length);
}

}  // namespace stepwise::g2p

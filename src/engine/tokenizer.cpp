#include "tokenizer.h"

#include "error.h"
#include "utf8.h"

namespace stepwise {

namespace {

// A decoder-only model with a separator reads a word as its letters, then <sep>: "phoenix" ->
// p h o e n i x <sep>, after which it writes the pronunciation. Letters are folded to lowercase, as an
// encoder-decoder's source vocabulary does with "lowercase": true.
std::vector<int> encode_letters_then_sep(const ModelConfig& c, const std::string& text) {
  const size_t limit = static_cast<size_t>(c.max_target_len - 3);  // <s>, <sep> and room for one token
  if (text.size() > 4 * limit + 64) fail("the input is too long: ", text.size(), " bytes; this model reads at most ", limit, " letters");
  const Vocabulary letters(std::vector<std::string>(c.target_vocab.tokens()), Vocabulary::Split::Chars, true);
  // Input symbols are single lowercase characters: not the specials, and not the phonemes ("AY1", "B").
  std::vector<int> not_letters = {c.target_pad, c.bos, c.eos, c.sep};
  for (int id = 0; id < letters.size(); ++id) {
    const std::string& token = letters.token(id);
    if (utf8::code_points(token, "token").size() != 1 || utf8::ascii_lower(token) != token) not_letters.push_back(id);
  }
  std::vector<int> ids = letters.encode(text, not_letters, "input");
  if (ids.empty()) fail("the input is empty: type a word");
  if (ids.size() > limit) fail("the input is too long: ", ids.size(), " letters; this model reads at most ", limit);
  ids.push_back(c.sep);
  return ids;
}

}  // namespace

std::vector<int> encode_input(const ModelConfig& c, const std::string& text) {
  if (!c.has_encoder() && c.sep >= 0) return encode_letters_then_sep(c, text);
  const bool source = c.has_encoder();
  const Vocabulary& vocab = source ? c.source_vocab : c.target_vocab;
  const std::vector<int> specials = source ? std::vector<int>{c.source_pad} : std::vector<int>{c.target_pad, c.bos, c.eos};
  // Refuse absurd lengths before splitting, so a pasted novel costs nothing.
  const size_t limit = static_cast<size_t>(source ? c.max_source_len : c.max_target_len - 2);
  if (text.size() > 4 * limit + 64) fail("the input is too long: ", text.size(), " bytes; this model reads at most ", limit, " symbols");
  std::vector<int> ids = vocab.encode(text, specials, "input");
  if (ids.empty()) fail("the input is empty: type a word");
  if (ids.size() > limit)
    fail("the input is too long: ", ids.size(), " symbols; this model reads at most ", limit);
  return ids;
}

std::vector<int> encode_target(const ModelConfig& c, const std::string& text) {
  const size_t limit = static_cast<size_t>(c.max_target_len - 1);  // <s> takes the first position
  if (text.size() > 16 * limit + 64) fail("the target is too long: ", text.size(), " bytes");
  std::vector<int> ids = c.target_vocab.encode(text, {c.target_pad, c.bos, c.eos}, "target");
  if (ids.empty()) fail("the target is empty");
  if (ids.size() > limit) fail("the target is too long: ", ids.size(), " symbols; after <s> the model has room for ", limit);
  return ids;
}

std::string decode_output(const ModelConfig& c, const std::vector<int>& ids) {
  return c.target_vocab.decode(ids, {c.target_pad, c.bos, c.eos});
}

}  // namespace stepwise

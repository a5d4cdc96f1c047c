// User text -> tokens: what a person types is untrusted, and every rejection says what and where.
#include <catch2/catch.hpp>

#include "fixtures.h"

using namespace stepwise;
using Catch::Contains;

TEST_CASE("words become source tokens; phonemes come back as text", "[tokenizer]") {
  auto model = fixtures::load("postnorm_relu_sinusoidal");  // source: a-h, target: A-G
  const ModelConfig& c = model->config();
  CHECK(encode_input(c, "abc") == std::vector<int>{1, 2, 3});
  CHECK(encode_input(c, "ABC") == std::vector<int>{1, 2, 3});  // the source vocabulary lowercases
  CHECK(decode_output(c, {3, 4, 5, c.eos}) == "A B C");
  CHECK(decode_output(c, {c.bos, 3, c.target_pad}) == "A");
}

TEST_CASE("bad text is rejected with the symbol and its position", "[tokenizer][errors]") {
  auto model = fixtures::load("postnorm_relu_sinusoidal");
  const ModelConfig& c = model->config();
  CHECK_THROWS_WITH(encode_input(c, ""), Contains("the input is empty"));
  CHECK_THROWS_WITH(encode_input(c, "abz"), Contains("input: 'z' at position 3 is not in the model's vocabulary (a b c d e f g h)"));
  CHECK_THROWS_WITH(encode_input(c, "ab cd"), Contains("a space at position 3"));
  CHECK_THROWS_WITH(encode_input(c, "a\x07"), Contains("U+0007 at position 2"));
  CHECK_THROWS_WITH(encode_input(c, "ab\xC3\xA9"), Contains("'\xC3\xA9' (U+00E9) at position 3"));
  CHECK_THROWS_WITH(encode_input(c, "<pad>"), Contains("'<' at position 1"));
  CHECK_THROWS_WITH(encode_input(c, "abcdefghabc"), Contains("the input is too long: 11 symbols; this model reads at most 10"));
  CHECK_THROWS_WITH(encode_input(c, std::string(100000, 'a')), Contains("the input is too long: 100000 bytes"));
  // malformed UTF-8: a lone continuation byte, a truncated sequence, an overlong encoding, a surrogate
  for (const char* bad : {"a\x80", "a\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF8\x88\x80\x80\x80"})
    CHECK_THROWS_WITH(encode_input(c, bad), Contains("input is not valid UTF-8"));
}

TEST_CASE("a decoder-only model reads its prompt in the target vocabulary, without specials", "[tokenizer]") {
  auto model = fixtures::load("decoder_only_prenorm_gelu");
  const ModelConfig& c = model->config();
  CHECK(encode_input(c, "A B  C") == std::vector<int>{3, 4, 5});
  CHECK_THROWS_WITH(encode_input(c, "A </s>"), Contains("'</s>' at position 2 is not in the model's vocabulary"));
  CHECK_THROWS_WITH(encode_input(c, "   "), Contains("the input is empty"));
}

TEST_CASE("a decoder-only model with a separator reads a word as its letters, then <sep>", "[tokenizer]") {
  // The fixture's 10 target tokens renamed to a G2P-style vocabulary: letters, <sep>, phonemes.
  auto parts = fixtures::SafetensorsParts::split(fixtures::read_bytes(fixtures::model_path("decoder_only_postnorm_relu")));
  fixtures::json config = parts.config();
  config["target_vocab"]["tokens"] = {"<pad>", "<s>", "</s>", "<sep>", "a", "b", "c", "'", "AY1", "B"};
  config["target_vocab"]["sep"] = "<sep>";
  parts.set_config(config);
  const auto bytes = parts.join();
  auto model = Model::load_bytes(bytes.data(), bytes.size(), "g2p-style");
  const ModelConfig& c = model->config();
  REQUIRE(c.sep == 3);
  CHECK(encode_input(c, "cab'") == std::vector<int>{6, 4, 5, 7, 3});
  CHECK(encode_input(c, "CAB") == std::vector<int>{6, 4, 5, 3});  // letters fold to lowercase
  // Phonemes and specials are not letters; the message lists only what may be typed.
  CHECK(encode_input(c, "aB") == std::vector<int>{4, 5, 3});  // "B" is typed as the letter b, not the phoneme
  CHECK_THROWS_WITH(encode_input(c, "a d"), Contains("a space at position 2 is not in the model's vocabulary (a b c ')"));
  CHECK_THROWS_WITH(encode_input(c, "a<sep>"), Contains("'<' at position 2 is not in the model's vocabulary (a b c ')"));
  CHECK_THROWS_WITH(encode_input(c, ""), Contains("the input is empty"));
  CHECK_THROWS_WITH(encode_input(c, std::string(10, 'a')), Contains("the input is too long: 10 letters; this model reads at most 9"));
  CHECK(decode_output(c, {4, 5, 3, 8, 9, c.eos}) == "a b <sep> AY1 B");
}

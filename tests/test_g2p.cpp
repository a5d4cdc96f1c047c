// The shipped G2P models (kShipped: weights/g2p-cmudict.safetensors, ...) against PyTorch on the same
// weights (tests/fixtures/g2p_parity.json, ..., written by tools/make_g2p_fixture.py): greedy tokens
// equal on 200 test-split words, teacher-forced logits within 5e-5 on 20 of them, and the
// teacher-forced loss of the dictionary pronunciation as the training script computes it. The logits are larger than the
// fixtures' (tens, not units) and pass through 3+3 layers of width 128, so float32 summation order
// moves them by a few 1e-6 (2.7e-6 when written); 5e-5 still catches any real difference.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "fixtures.h"

using namespace stepwise;
using fixtures::json;

namespace {

// The shipped models and the PyTorch fixture of each (tools/make_g2p_fixture.py).
struct Shipped {
  std::string weights, fixture;
};
const std::vector<Shipped> kShipped = {
    {"g2p-cmudict.safetensors", "g2p_parity.json"},
    {"g2p-cmudict-decoder-only.safetensors", "g2p_decoder_only_parity.json"},
};
std::string weights_path(const Shipped& m) { return std::string(STEPWISE_FIXTURES) + "/../../weights/" + m.weights; }

std::string fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001B3ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

json parity(const Shipped& m) {
  std::ifstream in(std::string(STEPWISE_FIXTURES) + "/" + m.fixture);
  REQUIRE(in.good());
  return json::parse(in);
}

}  // namespace

TEST_CASE("each G2P parity fixture was made from the shipped weights", "[g2p]") {
  for (const Shipped& m : kShipped) {
    INFO("weights/" << m.weights << " changed: rerun tools/make_g2p_fixture.py for it");
    CHECK(fnv1a64(fixtures::read_bytes(weights_path(m))) == parity(m)["fnv1a64"].get<std::string>());
  }
}

// Both ways the engine can hold the Q8 weights: int8 (natively, and large matrices in WebAssembly) and
// dequantized to float32 (small matrices in WebAssembly: LoadOptions::dequantize_up_to).
TEST_CASE("G2P: greedy output equals PyTorch's on 200 test words; logits agree", "[g2p]") {
  const auto [dequantize_up_to, held] = GENERATE(table<long, const char*>({{0L, "int8"}, {1L << 30, "float32"}}));
  for (const Shipped& m : kShipped) {
    INFO(m.weights << ", matrices " << held);
    const json fx = parity(m);
    auto model = Model::load_file(weights_path(m), LoadOptions{dequantize_up_to});
    const ModelConfig& c = model->config();
    Generator g(model, DecodeOptions{});
    int equal = 0;
    double worst = 0.0;
    for (const json& cs : fx["cases"]) {
      const std::string word = cs["word"];
      INFO(word);
      const std::vector<int> input = encode_input(c, word);  // letters (decoder-only: then <sep>)
      g.start(input);
      while (!g.done()) g.step();
      const auto expected = cs["greedy"].get<std::vector<int>>();
      CHECK(g.output() == expected);
      equal += g.output() == expected;
      if (cs.contains("logits")) {
        // the whole sequence teacher-forced: <s> (+ the decoder-only prompt) + the greedy output but its last
        std::vector<int> target = {c.bos};
        if (!c.has_encoder()) target.insert(target.end(), input.begin(), input.end());
        target.insert(target.end(), expected.begin(), expected.end() - 1);
        const ForwardResult r = forward(*model, c.has_encoder() ? input : std::vector<int>{}, target, true);
        const double diff = fixtures::max_abs_diff(cs["logits"], r.logits);
        CHECK(diff <= 5e-5);
        worst = std::max(worst, diff);
      }
    }
    WARN(m.weights << " (matrices " << held << "): " << equal << " of " << fx["cases"].size()
                   << " words decode to PyTorch's exact tokens; largest logit difference " << worst);
  }
}

TEST_CASE("G2P: real words get sensible pronunciations", "[g2p]") {
  for (const Shipped& m : kShipped) {
    INFO(m.weights);
    auto model = Model::load_file(weights_path(m));
    Generator g(model, DecodeOptions{});
    auto say = [&](const std::string& word) {
      g.start(encode_input(model->config(), word));
      while (!g.done()) g.step();
      return decode_output(model->config(), g.output());
    };
    // not golden outputs (the model decides), but what any working G2P model must get right
    CHECK(say("cat") == "K AE1 T");
    CHECK(say("knight").rfind("N AY1 T", 0) == 0);  // the k is silent
    CHECK(say("phoenix").rfind("F ", 0) == 0);       // ph -> F
  }
}

TEST_CASE("G2P: the teacher-forced loss of the dictionary pronunciation is the training script's", "[g2p][loss]") {
  for (const Shipped& m : kShipped) {
    INFO(m.weights);
    const json fx = parity(m);
    auto model = Model::load_file(weights_path(m));
    const ModelConfig& c = model->config();
    int checked = 0;
    for (const json& cs : fx["cases"]) {
      if (!cs.contains("reference")) continue;
      const std::string word = cs["word"];
      INFO(word);
      const auto full = cs["reference"].get<std::vector<int>>();  // <s> (+ prompt) + pronunciation + </s>
      const std::vector<int> input = c.has_encoder() ? encode_input(c, word) : std::vector<int>{};
      const ForwardResult r = forward(*model, input, std::vector<int>(full.begin(), full.end() - 1), true);
      const SequenceLoss loss = sequence_loss(r.logits, full, 0.1);
      const auto nll = cs["nll"].get<std::vector<double>>();
      REQUIRE(loss.nll.size() == nll.size());
      for (size_t i = 0; i < nll.size(); ++i) CHECK(loss.nll[i] == Approx(nll[i]).margin(1e-4));
      CHECK(loss.cross_entropy == Approx(cs["cross_entropy"].get<double>()).margin(1e-5));
      CHECK(loss.smoothed == Approx(cs["smoothed_0.1"].get<double>()).margin(1e-5));
      ++checked;
    }
    CHECK(checked == 20);
  }
}

TEST_CASE("sequence_loss: errors name what is wrong", "[loss][errors]") {
  const RowMatrix logits = RowMatrix::Zero(2, 4);
  CHECK_THROWS_WITH(sequence_loss(logits, {1}, 0.0), Catch::Contains("2 rows of logits for a target of 1 tokens"));
  CHECK_THROWS_WITH(sequence_loss(logits, {1, 7}, 0.0), Catch::Contains("target token 7 at position 1 is outside the vocabulary [0, 4)"));
  CHECK_THROWS_WITH(sequence_loss(logits, {1, 2}, 1.5), Catch::Contains("label smoothing must be in [0, 1], got 1.5"));
  const SequenceLoss uniform = sequence_loss(logits, {1, 2, 3}, 0.1);  // every token at p = 1/4
  CHECK(uniform.cross_entropy == Approx(std::log(4.0)));
  CHECK(uniform.smoothed == Approx(std::log(4.0)));
}

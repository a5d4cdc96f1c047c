// The shipped G2P model (weights/g2p-cmudict.safetensors) against PyTorch on the same weights
// (tests/fixtures/g2p_parity.json, written by tools/make_g2p_fixture.py): greedy tokens equal on 200
// test-split words, teacher-forced logits within 5e-5 on 20 of them. The logits are larger than the
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

const std::string kWeights = std::string(STEPWISE_FIXTURES) + "/../../weights/g2p-cmudict.safetensors";

std::string fnv1a64(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001B3ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

const json& parity() {
  static const json j = [] {
    std::ifstream in(std::string(STEPWISE_FIXTURES) + "/g2p_parity.json");
    return json::parse(in);
  }();
  return j;
}

}  // namespace

TEST_CASE("the G2P parity fixture was made from the shipped weights", "[g2p]") {
  INFO("weights/g2p-cmudict.safetensors changed: rerun tools/make_g2p_fixture.py");
  CHECK(fnv1a64(fixtures::read_bytes(kWeights)) == parity()["fnv1a64"].get<std::string>());
}

TEST_CASE("G2P: greedy output equals PyTorch's on 200 test words; logits agree", "[g2p]") {
  auto model = Model::load_file(kWeights);
  const ModelConfig& c = model->config();
  Generator g(model, DecodeOptions{});
  int equal = 0;
  double worst = 0.0;
  for (const json& cs : parity()["cases"]) {
    const std::string word = cs["word"];
    INFO(word);
    const std::vector<int> source = encode_input(c, word);
    g.start(source);
    while (!g.done()) g.step();
    const auto expected = cs["greedy"].get<std::vector<int>>();
    CHECK(g.output() == expected);
    equal += g.output() == expected;
    if (cs.contains("logits")) {
      std::vector<int> target = {c.bos};
      target.insert(target.end(), expected.begin(), expected.end() - 1);
      const ForwardResult r = forward(*model, source, target, true);
      const double diff = fixtures::max_abs_diff(cs["logits"], r.logits);
      CHECK(diff <= 5e-5);
      worst = std::max(worst, diff);
    }
  }
  WARN(equal << " of " << parity()["cases"].size() << " words decode to PyTorch's exact tokens; largest logit difference " << worst);
}

TEST_CASE("G2P: real words get sensible pronunciations", "[g2p]") {
  auto model = Model::load_file(kWeights);
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

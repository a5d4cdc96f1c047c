// Decoding strategies: PCG32, sampling (temperature, top-k, top-p), greedy, beam search, length limits,
// and the errors of API misuse.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "fixtures.h"

using namespace stepwise;
using fixtures::golden;
using fixtures::json;

namespace {

std::vector<int> run(const std::shared_ptr<const Model>& model, const DecodeOptions& o, const std::vector<int>& source) {
  Generator g(model, o);
  g.start(source);
  while (!g.done()) g.step();
  return g.output();
}

DecodeOptions sample(float temperature, int top_k, float top_p, uint64_t seed) {
  DecodeOptions o;
  o.strategy = Strategy::Sample;
  o.sampling = {temperature, top_k, top_p, seed};
  return o;
}

const std::vector<int> kSource = {1, 2, 3, 4};

// Sum of log-probabilities of `tokens` given `source`, from one teacher-forced pass.
double sequence_log_prob(const Model& model, const std::vector<int>& source, const std::vector<int>& tokens) {
  std::vector<int> target = {model.config().bos};
  target.insert(target.end(), tokens.begin(), tokens.end() - 1);
  ForwardResult r = forward(model, source, target, true);
  double total = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto row = r.logits.row(static_cast<Eigen::Index>(i)).cast<double>();
    total += row(tokens[i]) - (row.maxCoeff() + std::log((row.array() - row.maxCoeff()).exp().sum()));
  }
  return total;
}

}  // namespace

TEST_CASE("PCG32 reproduces the reference generator's stream", "[decoding]") {
  // pcg32-global-demo / pcg32_srandom_r(42, 54): the published first outputs of the minimal C library
  Pcg32 rng(42, 54);
  const uint32_t expected[] = {0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e};
  for (uint32_t e : expected) CHECK(rng.next() == e);
  Pcg32 u(7);
  for (int i = 0; i < 1000; ++i) {
    const float x = u.uniform();
    REQUIRE(x >= 0.0f);
    REQUIRE(x < 1.0f);
  }
}

TEST_CASE("the same seed gives the same sample; different seeds differ", "[decoding]") {
  auto model = fixtures::load("prenorm_relu_mixed_depth");
  const DecodeOptions o = sample(1.5f, 0, 1.0f, 1234);
  CHECK(run(model, o, kSource) == run(model, o, kSource));
  int different = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) different += run(model, sample(1.5f, 0, 1.0f, seed), kSource) != run(model, o, kSource);
  CHECK(different >= 5);
}

TEST_CASE("top-k 1, a tiny top-p and a tiny temperature all reduce sampling to greedy", "[decoding]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  for (const json& c : golden(name)["cases"]) {
    const auto source = model->config().has_encoder() ? c["source"].get<std::vector<int>>() : c["prompt"].get<std::vector<int>>();
    const auto greedy = run(model, DecodeOptions{}, source);
    CHECK(run(model, sample(1.0f, 1, 1.0f, 5), source) == greedy);
    CHECK(run(model, sample(1.0f, 0, 1e-6f, 5), source) == greedy);
    CHECK(run(model, sample(1e-3f, 0, 1.0f, 5), source) == greedy);
  }
}

TEST_CASE("the sampling distribution follows temperature, top-k and top-p", "[decoding]") {
  const std::vector<float> logits = {2.0f, 1.0f, 0.5f, 0.0f, -1.0f, -3.0f};
  const int n = static_cast<int>(logits.size());
  std::vector<float> probs(n);
  auto softmax = [&](float t) {
    std::vector<double> p(n);
    double z = 0;
    for (int i = 0; i < n; ++i) z += p[i] = std::exp((logits[i] - 2.0) / t);
    for (double& x : p) x /= z;
    return p;
  };
  SECTION("temperature 2 flattens the softmax") {
    Sampler s(sample(2.0f, 0, 1.0f, 0), n);
    s.choose(logits.data(), probs.data());
    auto p = softmax(2.0f);
    for (int i = 0; i < n; ++i) CHECK(probs[i] == Approx(p[i]).epsilon(1e-6));
  }
  SECTION("top-k 2 keeps the two most likely tokens, renormalised") {
    Sampler s(sample(1.0f, 2, 1.0f, 0), n);
    s.choose(logits.data(), probs.data());
    auto p = softmax(1.0f);
    CHECK(probs[0] == Approx(p[0] / (p[0] + p[1])));
    CHECK(probs[1] == Approx(p[1] / (p[0] + p[1])));
    for (int i = 2; i < n; ++i) CHECK(probs[i] == 0.0f);
  }
  SECTION("top-p keeps the smallest prefix reaching the mass") {
    auto p = softmax(1.0f);  // p[0] ~ 0.55, p[0] + p[1] ~ 0.75, + p[2] ~ 0.87
    Sampler s(sample(1.0f, 0, 0.8f, 0), n);
    s.choose(logits.data(), probs.data());
    const double kept = p[0] + p[1] + p[2];
    for (int i = 0; i < 3; ++i) CHECK(probs[i] == Approx(p[i] / kept));
    for (int i = 3; i < n; ++i) CHECK(probs[i] == 0.0f);
  }
  SECTION("draws follow the distribution (20,000 draws, each frequency within 0.015)") {
    Sampler s(sample(1.0f, 0, 1.0f, 99), n);
    std::vector<int> counts(n, 0);
    const int draws = 20000;
    for (int k = 0; k < draws; ++k) ++counts[s.choose(logits.data(), probs.data())];
    auto p = softmax(1.0f);
    for (int i = 0; i < n; ++i) CHECK(std::fabs(counts[i] / double(draws) - p[i]) < 0.015);
  }
  SECTION("greedy reports softmax(logits) and picks the argmax, the lowest id on ties") {
    Sampler s(DecodeOptions{}, 3);
    const float tied[] = {1.0f, 3.0f, 3.0f};
    CHECK(s.choose(tied, probs.data()) == 1);
    CHECK(probs[1] == Approx(probs[2]));
  }
}

TEST_CASE("beam search: width 1 is greedy; hypotheses are scored by their real log-probability", "[decoding]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  for (const json& c : golden(name)["cases"]) {
    INFO(name << " source " << c["source"].dump());
    const auto source = model->config().has_encoder() ? c["source"].get<std::vector<int>>() : c["prompt"].get<std::vector<int>>();
    DecodeOptions o;
    o.strategy = Strategy::Beam;
    o.beam_width = 1;
    BeamSearch one(model, o);
    one.start(source);
    one.run();
    CHECK(one.results().at(0).tokens == run(model, DecodeOptions{}, source));

    if (!model->config().has_encoder()) continue;
    o.beam_width = 4;
    o.n_best = 4;
    BeamSearch four(model, o);
    four.start(source);
    four.run();
    const auto results = four.results();
    REQUIRE(!results.empty());
    for (size_t i = 0; i < results.size(); ++i) {
      const Hypothesis& h = results[i];
      CHECK(h.log_prob == Approx(sequence_log_prob(*model, source, h.tokens)).margin(1e-4));
      CHECK(h.score == Approx(h.log_prob / std::pow(double(h.tokens.size()), 1.0)).margin(1e-5));
      if (i > 0) CHECK(results[i - 1].score >= h.score);
      for (size_t j = 0; j < i; ++j) CHECK(results[j].tokens != h.tokens);
    }
  }
}

TEST_CASE("generation stops at </s> or at the length limit", "[decoding]") {
  auto model = fixtures::load("postnorm_relu_sinusoidal");
  const ModelConfig& c = model->config();
  for (const json& cs : golden("postnorm_relu_sinusoidal")["cases"]) {
    Generator g(model, DecodeOptions{});
    g.start(cs["source"].get<std::vector<int>>());
    while (!g.done()) g.step();
    const auto& out = g.output();
    const bool ended = out.back() == c.eos;
    CHECK((ended || static_cast<int>(out.size()) == c.max_target_len));
    CHECK(std::count(out.begin(), out.end(), c.eos) == (ended ? 1 : 0));
  }
  DecodeOptions o;
  o.max_length = 2;
  auto limited = run(model, o, kSource);
  CHECK(limited.size() <= 2);
}

TEST_CASE("replace_last: stepping with the reference fed is the teacher-forced pass, one row at a time (<= 1e-5)", "[decoding]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  const ModelConfig& c = model->config();
  for (const json& cs : golden(name)["cases"]) {
    INFO(name << " target " << cs["target"].dump());
    const auto source = cs["source"].get<std::vector<int>>();
    const auto prompt = cs["prompt"].get<std::vector<int>>();
    const auto target = cs["target"].get<std::vector<int>>();  // <s>, the prompt (decoder-only), the reference
    const ForwardResult full = forward(*model, source, target, true);
    Generator g(model, DecodeOptions{});
    g.start(c.has_encoder() ? source : prompt);
    const int P = static_cast<int>(prompt.size()), T = static_cast<int>(target.size());
    for (int i = P; i < T; ++i) {
      REQUIRE_FALSE(g.done());
      g.step();
      const Eigen::Map<const Eigen::RowVectorXf> logits(g.logits().data(), c.target_vocab.size());
      CHECK((logits - full.logits.row(i)).cwiseAbs().maxCoeff() <= 1e-5);
      for (int r = 0; r < c.n_decoder_layers * c.n_heads; ++r)
        CHECK((g.state().self_attention.row(r).head(i + 1) - full.self_attention[r].row(i).head(i + 1)).cwiseAbs().maxCoeff() <= 1e-5);
      if (i + 1 < T) g.replace_last(target[static_cast<size_t>(i) + 1]);  // fed next, whatever was chosen
    }
    CHECK(std::equal(g.output().begin(), g.output().end() - 1, target.begin() + 1 + P));
  }
}

TEST_CASE("replace_last: a finished run goes on when </s> is replaced; misuse gets a clear error", "[decoding][errors]") {
  auto model = fixtures::load("postnorm_relu_sinusoidal");
  const ModelConfig& c = model->config();
  Generator g(model, DecodeOptions{});
  CHECK_THROWS_WITH(g.replace_last(3), Catch::Contains("no token chosen yet"));
  g.start(kSource);
  CHECK_THROWS_WITH(g.replace_last(3), Catch::Contains("no token chosen yet"));
  g.step();
  CHECK_THROWS_WITH(g.replace_last(c.target_vocab.size()), Catch::Contains("outside the target vocabulary [0, 10)"));
  CHECK_THROWS_WITH(g.replace_last(-1), Catch::Contains("outside the target vocabulary"));
  g.replace_last(c.eos);
  CHECK(g.done());
  g.replace_last(3);
  CHECK_FALSE(g.done());
  CHECK(g.output() == std::vector<int>{3});
  CHECK_NOTHROW(g.step());
}

TEST_CASE("API misuse gets a clear error, and the object stays usable", "[decoding][errors]") {
  auto model = fixtures::load("postnorm_relu_sinusoidal");
  Generator g(model, DecodeOptions{});
  CHECK_THROWS_WITH(g.step(), Catch::Contains("step before encode"));
  CHECK_THROWS_WITH(g.start({}), Catch::Contains("source sequence is empty"));
  CHECK_THROWS_WITH(g.start({1, 2, 99}), Catch::Contains("source token 99 at position 2 is outside the source vocabulary"));
  CHECK_THROWS_WITH(g.start(std::vector<int>(11, 1)), Catch::Contains("max_source_len is 10"));
  g.start(kSource);
  while (!g.done()) g.step();
  CHECK_THROWS_WITH(g.step(), Catch::Contains("this run is finished"));
  g.start(kSource);  // still usable
  CHECK_NOTHROW(g.step());

  auto bad = [&](DecodeOptions o) { return Generator(model, o); };
  CHECK_THROWS_WITH(bad(sample(0.0f, 0, 1.0f, 0)), Catch::Contains("temperature must be greater than 0"));
  CHECK_THROWS_WITH(bad(sample(-1.0f, 0, 1.0f, 0)), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(bad(sample(NAN, 0, 1.0f, 0)), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(bad(sample(1.0f, -3, 1.0f, 0)), Catch::Contains("top_k must be 0"));
  CHECK_THROWS_WITH(bad(sample(1.0f, 0, 0.0f, 0)), Catch::Contains("top_p must be in (0, 1]"));
  CHECK_THROWS_WITH(bad(sample(1.0f, 0, 1.5f, 0)), Catch::Contains("top_p must be in (0, 1]"));
  DecodeOptions beam;
  beam.strategy = Strategy::Beam;
  beam.beam_width = 0;
  CHECK_THROWS_WITH(BeamSearch(model, beam), Catch::Contains("beam width must be between 1 and 64"));
  beam.beam_width = 3;
  beam.n_best = 4;
  CHECK_THROWS_WITH(BeamSearch(model, beam), Catch::Contains("n_best must be between 1 and the beam width 3"));
  beam.n_best = 1;
  CHECK_THROWS_WITH(Generator(model, beam), Catch::Contains("beam search runs through BeamSearch"));

  // stepping past max_target_len at the lowest level
  const ModelConfig& c = model->config();
  EncoderOutput enc;
  encode(*model, kSource, &enc);
  DecoderState state(c);
  StepScratch scratch(c);
  std::vector<float> logits(c.target_vocab.size());
  for (int i = 0; i < c.max_target_len; ++i) decoder_step(*model, &enc, &state, &scratch, 3, logits.data());
  CHECK_THROWS_WITH(decoder_step(*model, &enc, &state, &scratch, 3, logits.data()),
                    Catch::Contains("cannot step past the model's max_target_len of 12"));
  DecoderState fresh(c);
  CHECK_THROWS_WITH(decoder_step(*model, nullptr, &fresh, &scratch, 3, logits.data()), Catch::Contains("step before encode"));
  CHECK_THROWS_WITH(decoder_step(*model, &enc, &fresh, &scratch, 77, logits.data()),
                    Catch::Contains("target token 77 is outside the target vocabulary [0, 10)"));
}

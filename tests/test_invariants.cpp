// The central invariant of autoregressive decoding: stepping one position at a time with the KV cache
// gives exactly what the teacher-forced pass gives under the causal mask -- and without the mask the
// teacher-forced pass sees the future, so its outputs change.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "fixtures.h"

using namespace stepwise;
using fixtures::golden;
using fixtures::json;

namespace {

struct Stepped {
  RowMatrix logits;                   // [T, V]
  std::vector<RowMatrix> self, cross; // [layer * heads + head] -> [T, T] / [T, S], filled row by row
};

// Runs `target` through decoder_step one token at a time and collects every row. With `poison`, the
// cache rows at and after the current position are set to NaN before each step: a step that read the
// future (or stale entries) would turn the output into NaN.
Stepped step_through(const Model& model, const std::vector<int>& source, const std::vector<int>& target, bool poison = false) {
  const ModelConfig& c = model.config();
  const int T = static_cast<int>(target.size()), LH = c.n_decoder_layers * c.n_heads;
  EncoderOutput enc;
  if (c.has_encoder()) encode(model, source, &enc);
  DecoderState state(c);
  StepScratch scratch(c);
  Stepped out{RowMatrix(T, c.target_vocab.size()), std::vector<RowMatrix>(LH, RowMatrix::Zero(T, T)),
              std::vector<RowMatrix>(LH, RowMatrix::Zero(T, std::max(1, enc.length)))};
  for (int i = 0; i < T; ++i) {
    if (poison)
      for (int l = 0; l < c.n_decoder_layers; ++l) {
        state.keys[l].bottomRows(c.max_target_len - i).setConstant(std::numeric_limits<float>::quiet_NaN());
        state.values[l].bottomRows(c.max_target_len - i).setConstant(std::numeric_limits<float>::quiet_NaN());
      }
    decoder_step(model, c.has_encoder() ? &enc : nullptr, &state, &scratch, target[i], out.logits.row(i).data());
    for (int r = 0; r < LH; ++r) {
      out.self[r].row(i).head(i + 1) = state.self_attention.row(r).head(i + 1);
      if (c.has_encoder()) out.cross[r].row(i) = state.cross_attention.row(r).head(enc.length);
    }
  }
  return out;
}

double max_diff(const RowMatrix& a, const RowMatrix& b) { return (a - b).cwiseAbs().maxCoeff(); }

}  // namespace

TEST_CASE("causal_mask is generate_square_subsequent_mask: -inf strictly above the diagonal", "[invariant]") {
  for (int n = 1; n <= 6; ++n) {
    RowMatrix m = causal_mask(n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        // torch.triu(torch.ones(n, n)) == 0 is true strictly below the diagonal: the transpose of the
        // forbidden cells (query i, key j > i)
        const bool forbidden = j > i;
        CHECK((forbidden ? std::isinf(m(i, j)) && m(i, j) < 0 : m(i, j) == 0.0f));
      }
  }
}

TEST_CASE("stepping with the cache equals the teacher-forced pass with the causal mask (<= 1e-5)", "[invariant]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  const ModelConfig& c = model->config();
  for (const json& cs : golden(name)["cases"]) {
    INFO(name << " source " << cs["source"].dump());
    const auto source = cs["source"].get<std::vector<int>>();
    const auto target = cs["target"].get<std::vector<int>>();
    ForwardResult full = forward(*model, source, target, true);
    Stepped stepped = step_through(*model, source, target);
    CHECK(max_diff(full.logits, stepped.logits) <= 1e-5);
    for (int r = 0; r < c.n_decoder_layers * c.n_heads; ++r) {
      CHECK(max_diff(full.self_attention[r], stepped.self[r]) <= 1e-5);
      if (c.has_encoder()) CHECK(max_diff(full.cross_attention[r], stepped.cross[r]) <= 1e-5);
    }
  }
}

TEST_CASE("a step reads only the cache rows before it: poisoning the rest changes nothing", "[invariant]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  const json& cs = golden(name)["cases"][0];
  const auto source = cs["source"].get<std::vector<int>>();
  const auto target = cs["target"].get<std::vector<int>>();
  Stepped clean = step_through(*model, source, target);
  Stepped poisoned = step_through(*model, source, target, true);
  CHECK(poisoned.logits.allFinite());
  CHECK(max_diff(clean.logits, poisoned.logits) == 0.0);
}

TEST_CASE("without the causal mask attention leaks into the future and the outputs change", "[invariant]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  const ModelConfig& c = model->config();
  const json& cs = golden(name)["cases"][0];  // a case with several target positions
  const auto source = cs["source"].get<std::vector<int>>();
  const auto target = cs["target"].get<std::vector<int>>();
  REQUIRE(target.size() >= 3);
  ForwardResult masked = forward(*model, source, target, true);
  ForwardResult open = forward(*model, source, target, false);
  const int T = static_cast<int>(target.size());
  // Every position but the last now sees later tokens, so its logits move.
  for (int i = 0; i < T - 1; ++i) CHECK((masked.logits.row(i) - open.logits.row(i)).cwiseAbs().maxCoeff() > 1e-4);
  for (int r = 0; r < c.n_decoder_layers * c.n_heads; ++r) {
    const RowMatrix& m = masked.self_attention[r];
    const RowMatrix& o = open.self_attention[r];
    double future_masked = 0, future_open = 0;
    for (int i = 0; i < T; ++i)
      for (int j = i + 1; j < T; ++j) future_masked += m(i, j), future_open += o(i, j);
    CHECK(future_masked == 0.0);  // exactly zero: exp(-inf) = 0
    CHECK(future_open > 0.01);
  }
}

TEST_CASE("attention rows are probability distributions", "[invariant]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto model = fixtures::load(name);
  for (const json& cs : golden(name)["cases"]) {
    ForwardResult r = forward(*model, cs["source"].get<std::vector<int>>(), cs["target"].get<std::vector<int>>(), true);
    for (const auto* list : {&r.self_attention, &r.cross_attention, &r.encoder_attention})
      for (const RowMatrix& m : *list) {
        CHECK(m.minCoeff() >= 0.0f);
        CHECK((m.rowwise().sum().array() - 1.0f).abs().maxCoeff() <= 1e-5f);
      }
  }
}

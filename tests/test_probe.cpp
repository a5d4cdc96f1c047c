// The step probe ("open the box") against PyTorch: every intermediate of a decoder layer -- the residual
// stream, each LayerNorm, q/k/v, q.k, the scaled scores, the mask, the softmax, the context, each
// sub-layer's output and residual sum, the feed-forward's hidden units, the final LayerNorm -- as the
// teacher-forced pass records it and as each cached step records it, against the same quantities
// captured from torch.nn.Transformer with forward hooks (tests/fixtures/NAME.probe.json, written by
// tools/make_probe_fixtures.py). Tolerance: 1e-5 as the other parity tests, relative to the magnitude
// where values are large (raw q.k products and sums reach tens).
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "fixtures.h"

using namespace stepwise;
using fixtures::json;

namespace {

const std::vector<std::string> kProbed = {"postnorm_relu_sinusoidal", "prenorm_gelu_learned_tied", "decoder_only_prenorm_gelu"};
constexpr double kTolerance = 1e-5;

json probe_fixture(const std::string& name) {
  std::ifstream in(fixtures::model_path(name).substr(0, fixtures::model_path(name).size() - 12) + ".probe.json");
  REQUIRE(in.good());
  return json::parse(in);
}

// Largest |a - b| / max(1, |b|) over matching entries; +inf when the shapes differ.
double rel_diff(const json& expected, const RowMatrix& actual) {
  if (static_cast<Eigen::Index>(expected.size()) != actual.rows()) return INFINITY;
  double worst = 0.0;
  for (Eigen::Index r = 0; r < actual.rows(); ++r) {
    if (static_cast<Eigen::Index>(expected[r].size()) != actual.cols()) return INFINITY;
    for (Eigen::Index c = 0; c < actual.cols(); ++c) {
      const double e = expected[r][c].get<double>();
      worst = std::max(worst, std::fabs(e - static_cast<double>(actual(r, c))) / std::max(1.0, std::fabs(e)));
    }
  }
  return worst;
}

// Row `row` of an expected [T, n] matrix, its first `n` entries, against a vector.
double rel_diff_row(const json& expected, int row, const float* actual, int n) {
  if (static_cast<int>(expected.at(row).size()) < n) return INFINITY;
  double worst = 0.0;
  for (int c = 0; c < n; ++c) {
    const double e = expected[row][c].get<double>();
    worst = std::max(worst, std::fabs(e - static_cast<double>(actual[c])) / std::max(1.0, std::fabs(e)));
  }
  return worst;
}

// The engine's softmax, written out: exp(x - max) / sum in float32; -inf gives exactly 0.
RowMatrix softmax_rows(const RowMatrix& x) {
  RowMatrix y = x;
  for (Eigen::Index r = 0; r < y.rows(); ++r) {
    float max = -INFINITY, sum = 0.0f;
    for (Eigen::Index c = 0; c < y.cols(); ++c) max = std::max(max, y(r, c));
    for (Eigen::Index c = 0; c < y.cols(); ++c) sum += (y(r, c) = std::exp(y(r, c) - max));
    for (Eigen::Index c = 0; c < y.cols(); ++c) y(r, c) /= sum;
  }
  return y;
}

}  // namespace

TEST_CASE("teacher-forced probe: every intermediate equals PyTorch's", "[probe][parity]") {
  for (const std::string& name : kProbed) {
    INFO(name);
    const json fx = probe_fixture(name);
    auto model = fixtures::load(name);
    const ModelConfig& c = model->config();
    const ForwardResult r = forward(*model, fx["source"].get<std::vector<int>>(), fx["target"].get<std::vector<int>>(), true, true);
    REQUIRE(r.probe);
    const ForwardProbe& p = *r.probe;
    double worst = 0.0;
    auto check = [&](const char* what, const json& expected, const RowMatrix& actual) {
      INFO(what);
      const double diff = rel_diff(expected, actual);
      CHECK(diff <= kTolerance);
      worst = std::max(worst, diff);
    };
    check("token embedding", fx["token_embedding"], p.token_embedding);
    check("positional encoding", fx["positional"], p.positional);
    check("final LayerNorm", fx["final_normed"], p.final_normed);
    check("logits", fx["logits"], r.logits);
    REQUIRE(p.layers.size() == fx["layers"].size());
    for (int l = 0; l < c.n_decoder_layers; ++l) {
      INFO("layer " << l);
      const json& e = fx["layers"][l];
      const SequenceLayerProbe& a = p.layers[l];
      check("layer input", e["input"], a.input);
      check("hidden units", e["hidden"], a.hidden);
      std::vector<std::pair<const char*, const SequenceSublayerProbe*>> blocks = {{"self_block", &a.self_block}, {"ff_block", &a.ff_block}};
      if (c.has_encoder()) blocks.push_back({"cross_block", &a.cross_block});
      for (const auto& [block, b] : blocks) {
        INFO(block);
        check("normed", e[block]["normed"], b->normed);
        check("output", e[block]["output"], b->output);
        check("sum", e[block]["sum"], b->sum);
      }
      std::vector<std::pair<const char*, const SequenceAttentionProbe*>> attentions = {{"self_attention", &a.self_attention}};
      if (c.has_encoder()) attentions.push_back({"cross_attention", &a.cross_attention});
      for (const auto& [kind, at] : attentions) {
        INFO(kind);
        const json& ea = e[kind];
        check("query", ea["query"], at->query);
        check("key", ea["key"], at->key);
        check("value", ea["value"], at->value);
        check("context", ea["context"], at->context);
        for (int h = 0; h < c.n_heads; ++h) {
          INFO("head " << h);
          check("q.k", ea["raw"][h], at->raw[h]);
          check("scaled", ea["scaled"][h], at->scaled[h]);
          check("weights", ea["weights"][h], at->weights[h]);
          // softmax(scaled + mask) is the attention row, exactly
          CHECK(softmax_rows(at->scaled[h] + at->mask) == at->weights[h]);
        }
        for (Eigen::Index i = 0; i < at->mask.rows(); ++i)
          for (Eigen::Index j = 0; j < at->mask.cols(); ++j)
            REQUIRE((at->mask(i, j) == -INFINITY) == (ea["mask"][i][j].get<int>() == 1));
      }
    }
    WARN(name << ": largest relative difference from PyTorch " << worst);
  }
}

TEST_CASE("step probe: each cached step records what PyTorch computes for that position", "[probe][parity]") {
  for (const std::string& name : kProbed) {
    INFO(name);
    const json fx = probe_fixture(name);
    auto model = fixtures::load(name);
    const ModelConfig& c = model->config();
    const auto source = fx["source"].get<std::vector<int>>();
    const auto target = fx["target"].get<std::vector<int>>();
    const int T = static_cast<int>(target.size()), S = static_cast<int>(source.size());
    EncoderOutput enc;
    if (c.has_encoder()) encode(*model, source, &enc);
    DecoderState state(c, T, S);
    StepScratch scratch(c);
    StepProbe probe(c, T, S);
    std::vector<float> logits(c.target_vocab.size());
    double worst = 0.0;
    auto check = [&](const char* what, const json& expected, int row, const float* actual, int n) {
      INFO(what << " at position " << row);
      const double diff = rel_diff_row(expected, row, actual, n);
      CHECK(diff <= kTolerance);
      worst = std::max(worst, diff);
    };
    for (int i = 0; i < T; ++i) {
      decoder_step(*model, c.has_encoder() ? &enc : nullptr, &state, &scratch, target[i], logits.data(), &probe);
      REQUIRE(probe.position == i);
      REQUIRE(probe.token == target[i]);
      const int d = c.d_model;
      check("token embedding", fx["token_embedding"], i, probe.token_embedding.data(), d);
      check("positional", fx["positional"], i, probe.positional.data(), d);
      check("final LayerNorm", fx["final_normed"], i, probe.final_normed.data(), d);
      check("logits", fx["logits"], i, logits.data(), c.target_vocab.size());
      for (int l = 0; l < c.n_decoder_layers; ++l) {
        INFO("layer " << l);
        const json& e = fx["layers"][l];
        const LayerProbe& a = probe.layers[l];
        check("input", e["input"], i, a.input.data(), d);
        check("hidden", e["hidden"], i, a.hidden.data(), c.d_ff);
        std::vector<std::pair<const char*, const SublayerProbe*>> blocks = {{"self_block", &a.self_block}, {"ff_block", &a.ff_block}};
        if (c.has_encoder()) blocks.push_back({"cross_block", &a.cross_block});
        for (const auto& [block, b] : blocks) {
          INFO(block);
          check("normed", e[block]["normed"], i, b->normed.data(), d);
          check("output", e[block]["output"], i, b->output.data(), d);
          check("sum", e[block]["sum"], i, b->sum.data(), d);
        }
        // Self-attention: the cache holds positions 0..i, exactly the keys the causal mask leaves.
        const json& es = e["self_attention"];
        CHECK(a.self_attention.keys == i + 1);
        check("query", es["query"], i, a.self_attention.query.data(), d);
        check("key", es["key"], i, a.self_attention.key.data(), d);
        check("value", es["value"], i, a.self_attention.value.data(), d);
        check("context", es["context"], i, a.self_attention.context.data(), d);
        for (int h = 0; h < c.n_heads; ++h) {
          check("q.k", es["raw"][h], i, a.self_attention.raw.row(h).data(), i + 1);
          check("scaled", es["scaled"][h], i, a.self_attention.scaled.row(h).data(), i + 1);
          check("weights", es["weights"][h], i, a.self_attention.weights.row(h).data(), i + 1);
          for (int j = i + 1; j < T; ++j) REQUIRE(es["mask"][i][j].get<int>() == 1);  // what stepping never sees
          for (int j = 0; j <= i; ++j) REQUIRE(es["mask"][i][j].get<int>() == 0);
          // the softmax of the recorded scores is the recorded row, and the state's attention row
          const RowMatrix scaled = a.self_attention.scaled.row(h).head(i + 1);
          CHECK(softmax_rows(scaled) == RowMatrix(a.self_attention.weights.row(h).head(i + 1)));
          CHECK(RowMatrix(state.self_attention.row(l * c.n_heads + h).head(i + 1)) == RowMatrix(a.self_attention.weights.row(h).head(i + 1)));
        }
        if (c.has_encoder()) {
          const json& ec = e["cross_attention"];
          CHECK(a.cross_attention.keys == S);
          check("cross query", ec["query"], i, a.cross_attention.query.data(), d);
          check("cross context", ec["context"], i, a.cross_attention.context.data(), d);
          for (int h = 0; h < c.n_heads; ++h) {
            check("cross q.k", ec["raw"][h], i, a.cross_attention.raw.row(h).data(), S);
            check("cross scaled", ec["scaled"][h], i, a.cross_attention.scaled.row(h).data(), S);
            check("cross weights", ec["weights"][h], i, a.cross_attention.weights.row(h).data(), S);
          }
          // the encoder's keys and values, computed once, are PyTorch's in-projection of the memory
          CHECK(rel_diff(ec["key"], enc.cross_keys[l]) <= kTolerance);
          CHECK(rel_diff(ec["value"], enc.cross_values[l]) <= kTolerance);
        }
      }
    }
    WARN(name << " stepped: largest relative difference from PyTorch " << worst);
  }
}

TEST_CASE("a step with or without the probe gives the same logits, bit for bit", "[probe]") {
  for (const std::string& name : kProbed) {
    auto model = fixtures::load(name);
    const ModelConfig& c = model->config();
    const json fx = probe_fixture(name);
    const auto source = fx["source"].get<std::vector<int>>();
    const auto target = fx["target"].get<std::vector<int>>();
    const int T = static_cast<int>(target.size()), S = static_cast<int>(source.size());
    EncoderOutput enc;
    if (c.has_encoder()) encode(*model, source, &enc);
    DecoderState plain(c, T, S), probed(c, T, S);
    StepScratch scratch(c);
    StepProbe probe(c, T, S);
    std::vector<float> a(c.target_vocab.size()), b(c.target_vocab.size());
    for (int i = 0; i < T; ++i) {
      decoder_step(*model, c.has_encoder() ? &enc : nullptr, &plain, &scratch, target[i], a.data());
      decoder_step(*model, c.has_encoder() ? &enc : nullptr, &probed, &scratch, target[i], b.data(), &probe);
      REQUIRE(a == b);
    }
  }
}

TEST_CASE("a probe made for another model or fewer positions is refused", "[probe][errors]") {
  auto model = fixtures::load("postnorm_relu_sinusoidal");
  auto other = fixtures::load("decoder_only_prenorm_gelu");
  const ModelConfig& c = model->config();
  EncoderOutput enc;
  encode(*model, {1, 2, 3}, &enc);
  DecoderState state(c, 4, 3);
  StepScratch scratch(c);
  std::vector<float> logits(c.target_vocab.size());
  StepProbe wrong_model(other->config(), 4, 0), too_short(c, 1, 3);
  CHECK_THROWS_WITH(decoder_step(*model, &enc, &state, &scratch, c.bos, logits.data(), &wrong_model),
                    Catch::Contains("this step probe does not fit"));
  decoder_step(*model, &enc, &state, &scratch, c.bos, logits.data(), &too_short);  // position 0 fits
  CHECK_THROWS_WITH(decoder_step(*model, &enc, &state, &scratch, 3, logits.data(), &too_short),
                    Catch::Contains("position 1 over 3 source tokens"));
}

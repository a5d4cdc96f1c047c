// Property tests over many random small models (tests/random_model.cpp: random architecture, sizes,
// norms, activations, positions, tying and vocabularies) and random inputs, all seeded.
#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "random_model.h"

using namespace stepwise;

namespace {

constexpr int kModels = 1000;
constexpr int kInputsPerModel = 3;

struct Input {
  std::vector<int> source;  // empty for decoder-only models
  std::vector<int> target;  // starts with <s>
};

Input random_input(const ModelConfig& c, Pcg32& rng) {
  auto token = [&](int lo, int hi) { return lo + static_cast<int>(rng.next() % static_cast<uint32_t>(hi - lo)); };
  Input in;
  if (c.has_encoder())
    for (int i = 0, n = token(1, c.max_source_len + 1); i < n; ++i) in.source.push_back(token(1, c.source_vocab.size()));
  in.target.push_back(c.bos);
  for (int i = 0, n = token(1, c.max_target_len); i < n; ++i) in.target.push_back(token(3, c.target_vocab.size()));
  return in;
}

std::vector<int> decode(const std::shared_ptr<const Model>& model, const DecodeOptions& o, const std::vector<int>& source) {
  if (o.strategy == Strategy::Beam) {
    BeamSearch beam(model, o);
    beam.start(source);
    beam.run();
    return beam.results().at(0).tokens;
  }
  Generator g(model, o);
  g.start(source);
  while (!g.done()) g.step();
  return g.output();
}

// Everything decoding needs as "source": the encoder's input, or a decoder-only model's prompt.
std::vector<int> source_of(const ModelConfig& c, const Input& in) {
  if (c.has_encoder()) return in.source;
  // a prompt of up to 2 tokens, leaving room for <s> and one choice
  const long n = std::min<long>({2, static_cast<long>(in.target.size()) - 1, c.max_target_len - 2L});
  return std::vector<int>(in.target.begin() + 1, in.target.begin() + 1 + n);
}

}  // namespace

TEST_CASE("properties hold for random models and inputs", "[property]") {
  int cases = 0;
  double worst_step = 0.0;
  for (uint64_t seed = 1; seed <= kModels; ++seed) {
    const std::vector<uint8_t> bytes = fixtures::random_model(seed);
    auto model = Model::load_bytes(bytes.data(), bytes.size(), "random model " + std::to_string(seed));
    const ModelConfig& c = model->config();
    Pcg32 rng(seed, 5);
    for (int k = 0; k < kInputsPerModel; ++k, ++cases) {
      const Input in = random_input(c, rng);
      INFO("model seed " << seed << " (" << model->config_json() << "), input " << k);
      const int T = static_cast<int>(in.target.size());
      ForwardResult masked = forward(*model, in.source, in.target, true);

      // attention rows are probability distributions; the future is exactly 0 under the mask
      for (const auto* list : {&masked.self_attention, &masked.cross_attention, &masked.encoder_attention})
        for (const RowMatrix& m : *list) {
          REQUIRE(m.minCoeff() >= 0.0f);
          REQUIRE((m.rowwise().sum().array() - 1.0f).abs().maxCoeff() <= 1e-5f);
        }
      for (const RowMatrix& m : masked.self_attention)
        for (int i = 0; i < T; ++i)
          for (int j = i + 1; j < T; ++j) REQUIRE(m(i, j) == 0.0f);

      // stepping with the cache == the teacher-forced pass under the mask
      EncoderOutput enc;
      if (c.has_encoder()) encode(*model, in.source, &enc);
      DecoderState state(c);
      StepScratch scratch(c);
      std::vector<float> logits(c.target_vocab.size());
      for (int i = 0; i < T; ++i) {
        decoder_step(*model, c.has_encoder() ? &enc : nullptr, &state, &scratch, in.target[i], logits.data());
        for (int v = 0; v < c.target_vocab.size(); ++v) {
          const double diff = std::fabs(logits[v] - masked.logits(i, v));
          worst_step = std::max(worst_step, diff);
          REQUIRE(diff <= 1e-5 * std::max(1.0, std::fabs(static_cast<double>(logits[v]))));
        }
        for (int r = 0; r < c.n_decoder_layers * c.n_heads; ++r)
          for (int j = 0; j <= i; ++j) REQUIRE(std::fabs(state.self_attention(r, j) - masked.self_attention[r](i, j)) <= 1e-5);
      }

      // decoding strategies agree where they must
      const std::vector<int> source = source_of(c, in);
      const std::vector<int> greedy = decode(model, DecodeOptions{}, source);
      DecodeOptions beam1;
      beam1.strategy = Strategy::Beam;
      beam1.beam_width = 1;
      REQUIRE(decode(model, beam1, source) == greedy);
      DecodeOptions top1;
      top1.strategy = Strategy::Sample;
      top1.sampling = {1.0f, 1, 1.0f, seed};
      REQUIRE(decode(model, top1, source) == greedy);
      DecodeOptions sampled;
      sampled.strategy = Strategy::Sample;
      sampled.sampling = {1.3f, 0, 0.95f, seed * 31 + static_cast<uint64_t>(k)};
      REQUIRE(decode(model, sampled, source) == decode(model, sampled, source));
    }
  }
  WARN(cases << " random cases (" << kModels << " models); largest |stepped - teacher-forced| logit: " << worst_step);
}

TEST_CASE("expected_tensors lists exactly PyTorch's state_dict keys, in order", "[property]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  const auto bytes = fixtures::read_bytes(fixtures::model_path(name));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  // ordered_json keeps the header in file order, which is the order tools/stepwise_py/export.py wrote:
  // state_dict() order
  const auto header = nlohmann::ordered_json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  std::vector<std::string> file_names;
  for (const auto& [key, value] : header.items()) {
    const std::string base = key.size() > 6 ? key.substr(0, key.size() - 6) : "";
    const bool int8_scale = key.size() > 6 && key.compare(key.size() - 6, 6, ".scale") == 0 && header.contains(base) &&
                            header[base]["dtype"] == "I8";  // Q8 files: "NAME.scale" follows each I8 matrix
    if (key != "__metadata__" && !int8_scale) file_names.push_back(key);
  }
  std::vector<std::string> expected;
  for (const auto& spec : expected_tensors(fixtures::load(name)->config())) expected.push_back(spec.name);
  CHECK(expected == file_names);
}

TEST_CASE("F16-stored weights give the same greedy output as F32 on every fixture", "[property]") {
  const std::string name = GENERATE(from_range(fixtures::names()));
  auto parts = fixtures::SafetensorsParts::split(fixtures::read_bytes(fixtures::model_path(name)));
  parts.to_f16();
  const auto bytes = parts.join();
  auto f16 = Model::load_bytes(bytes.data(), bytes.size(), name + " (F16)");
  auto f32 = fixtures::load(name);
  for (const auto& c : fixtures::golden(name)["cases"]) {
    const auto source = f32->config().has_encoder() ? c["source"].get<std::vector<int>>() : c["prompt"].get<std::vector<int>>();
    CHECK(decode(f16, DecodeOptions{}, source) == decode(f32, DecodeOptions{}, source));
  }
}

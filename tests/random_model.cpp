#include "random_model.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "fixtures.h"

namespace fixtures {

std::vector<uint8_t> random_model(uint64_t seed) {
  stepwise::Pcg32 rng(seed, 77);
  auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng.next() % static_cast<uint32_t>(hi - lo + 1)); };
  auto chance = [&](int percent) { return pick(1, 100) <= percent; };

  const bool decoder_only = chance(20);
  const int head_choices[] = {1, 2, 4};
  const int heads = head_choices[pick(0, 2)];
  const int d_model = heads * 2 * pick(1, 6);  // even, divisible by the heads
  json source_tokens = json::array({"<pad>"});
  for (int i = 0, n = pick(2, 10); i < n; ++i) source_tokens.push_back(std::string(1, static_cast<char>('a' + i)));
  json target_tokens = json::array({"<pad>", "<s>", "</s>"});
  for (int i = 0, n = pick(1, 12); i < n; ++i) target_tokens.push_back("T" + std::to_string(i));

  json config = {
      {"format", "stepwise-transformer"},
      {"format_version", 1},
      {"name", "random-" + std::to_string(seed)},
      {"architecture", decoder_only ? "decoder-only" : "encoder-decoder"},
      {"d_model", d_model},
      {"n_heads", heads},
      {"n_encoder_layers", decoder_only ? 0 : pick(1, 3)},
      {"n_decoder_layers", pick(1, 3)},
      {"d_ff", pick(4, 48)},
      {"activation", chance(50) ? "relu" : "gelu"},
      {"norm_first", chance(50)},
      {"layer_norm_eps", chance(50) ? 1e-5 : 1e-6},
      {"positional_encoding", chance(50) ? "sinusoidal" : "learned"},
      {"scale_embedding", chance(50)},
      {"tie_output", chance(30)},
      {"max_target_len", pick(3, 14)},
      {"target_vocab", {{"tokens", target_tokens}, {"split", "space"}, {"lowercase", false}, {"pad", "<pad>"}, {"bos", "<s>"}, {"eos", "</s>"}}},
  };
  if (!decoder_only) {
    config["max_source_len"] = pick(2, 12);
    config["source_vocab"] = {{"tokens", source_tokens}, {"split", "chars"}, {"lowercase", true}, {"pad", "<pad>"}};
  }

  SafetensorsParts parts;
  parts.header = json::object();
  parts.set_config(config);
  const auto specs = stepwise::expected_tensors(stepwise::ModelConfig::from_json(config.dump(), "random"));
  for (const auto& spec : specs) {
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    const bool norm = spec.name.find("norm") != std::string::npos;
    // weights ~ U(-s, s) with s = 1.5 / sqrt(fan_in): large enough for peaked attention; norms near 1
    const float scale = spec.shape.size() == 2 ? 1.5f / std::sqrt(static_cast<float>(spec.shape[1])) : 0.3f;
    std::vector<float> values(static_cast<size_t>(n));
    for (float& v : values) {
      const float u = 2.0f * rng.uniform() - 1.0f;
      v = norm && spec.name.find(".weight") != std::string::npos ? 1.0f + 0.2f * u : scale * u;
    }
    parts.add(spec.name, spec.shape, values);
  }
  return parts.join();
}

}  // namespace fixtures

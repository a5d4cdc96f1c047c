#include "hostile_models.h"

#include <cmath>
#include <string>

#include "fixtures.h"

namespace fixtures {

std::vector<uint8_t> deep_model(int encoder_layers, int decoder_layers, int positions, uint64_t seed) {
  json config = {
      {"format", "stepwise-transformer"},
      {"format_version", 1},
      {"name", "deep-" + std::to_string(decoder_layers) + "-layers-" + std::to_string(positions) + "-positions"},
      {"architecture", "encoder-decoder"},
      {"d_model", 8},
      {"n_heads", 2},
      {"n_encoder_layers", encoder_layers},
      {"n_decoder_layers", decoder_layers},
      {"d_ff", 8},
      {"activation", "relu"},
      {"norm_first", false},
      {"layer_norm_eps", 1e-5},
      {"positional_encoding", "sinusoidal"},
      {"scale_embedding", true},
      {"tie_output", false},
      {"max_source_len", positions},
      {"max_target_len", positions},
      {"source_vocab", {{"tokens", {"<pad>", "a", "b", "c", "d", "e"}}, {"split", "chars"}, {"lowercase", true}, {"pad", "<pad>"}}},
      {"target_vocab",
       {{"tokens", {"<pad>", "<s>", "</s>", "A", "B", "C"}}, {"split", "space"}, {"lowercase", false}, {"pad", "<pad>"},
        {"bos", "<s>"}, {"eos", "</s>"}}},
  };
  SafetensorsParts parts;
  parts.header = json::object();
  parts.set_config(config);
  stepwise::Pcg32 rng(seed, 91);
  for (const auto& spec : stepwise::expected_tensors(stepwise::ModelConfig::from_json(config.dump(), "deep model"))) {
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    // LayerNorm gains near 1, everything else ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    const bool gain = spec.name.find("norm") != std::string::npos && spec.name.find(".weight") != std::string::npos;
    const float scale = spec.shape.size() == 2 ? 1.0f / std::sqrt(static_cast<float>(spec.shape[1])) : 0.1f;
    std::vector<float> values(static_cast<size_t>(n));
    for (float& v : values) v = gain ? 1.0f : scale * (2.0f * rng.uniform() - 1.0f);
    parts.add(spec.name, spec.shape, values);
  }
  return parts.join();
}

}  // namespace fixtures

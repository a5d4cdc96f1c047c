// libFuzzer target: arbitrary bytes as user text (any UTF-8 or not, empty, huge, control characters)
// through the tokenizer of a char-level model (the G2P shape) and of a space-split one.
#include <cstdint>
#include <string>

#include "stepwise.h"

namespace {
const stepwise::ModelConfig& config(const char* name) {
  static std::map<std::string, std::shared_ptr<const stepwise::Model>> models;
  auto& m = models[name];
  if (!m) m = stepwise::Model::load_file(std::string(STEPWISE_FIXTURES) + "/" + name + ".safetensors");
  return m->config();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const char* name : {"postnorm_relu_sinusoidal", "decoder_only_prenorm_gelu"}) {
    const stepwise::ModelConfig& c = config(name);
    try {
      const std::vector<int> ids = stepwise::encode_input(c, text);
      const auto& vocab = c.has_encoder() ? c.source_vocab : c.target_vocab;
      for (int id : ids)
        if (id < 0 || id >= vocab.size()) __builtin_trap();  // only valid ids come out
    } catch (const stepwise::Error&) {
    }
    try {
      for (int id : stepwise::encode_target(c, text))
        if (id < 3 || id >= c.target_vocab.size()) __builtin_trap();  // never a special token
    } catch (const stepwise::Error&) {
    }
  }
  return 0;
}

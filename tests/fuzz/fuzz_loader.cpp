// libFuzzer target: arbitrary bytes as a model file (safetensors container, header JSON, the
// configuration JSON inside it, tensor data). The loader must accept or throw stepwise::Error --
// never crash, read out of bounds, leak or hang. A model that loads must also run a step.
#include <cstdint>
#include <cstdlib>

#include "stepwise.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::shared_ptr<const stepwise::Model> model;
  try {
    model = stepwise::Model::load_bytes(data, size, "fuzz.safetensors");
  } catch (const stepwise::Error&) {
    return 0;
  }
  // It loaded, so it must be usable: one greedy step on the shortest valid input.
  try {
    stepwise::Generator g(model, stepwise::DecodeOptions{});
    const auto& c = model->config();
    g.start(c.has_encoder() ? std::vector<int>{c.source_pad == 0 ? 1 % c.source_vocab.size() : 0} : std::vector<int>{});
    g.step();
  } catch (const stepwise::Error&) {
  }
  return 0;
}

// Writes the hostile model files the command-line tests run (tests/cli_tests.cmake) into DIR:
//   deep.safetensors          4 + 64 layers, max_source_len = max_target_len = 8192 (tests/hostile_models.h)
//   huge_weights.safetensors  the postnorm_relu_sinusoidal fixture with one output bias of 1e30: finite,
//                             but far past what float32 arithmetic survives
//
//   stepwise_make_hostile_models DIR
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "fixtures.h"
#include "hostile_models.h"

namespace {

void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::fprintf(stderr, "usage: stepwise_make_hostile_models DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  write(dir + "/deep.safetensors", fixtures::deep_model(4, 64, 8192));

  auto parts = fixtures::SafetensorsParts::split(fixtures::read_bytes(fixtures::model_path("postnorm_relu_sinusoidal")));
  const float huge = 1e30f;
  const uint64_t offset = parts.header["generator.bias"]["data_offsets"][0];
  std::memcpy(parts.data.data() + offset, &huge, sizeof huge);
  write(dir + "/huge_weights.safetensors", parts.join());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "stepwise_make_hostile_models: %s\n", e.what());
  return 1;
}

// Test helpers: the golden fixtures written by tools/make_fixtures.py, and a way to take a model file
// apart and put it back together (to build broken files for the loader tests).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "stepwise.h"

namespace fixtures {

using nlohmann::json;

// Every fixture name (tests/fixtures/NAME.safetensors + NAME.golden.json).
const std::vector<std::string>& names();
std::string model_path(const std::string& name);
std::shared_ptr<const stepwise::Model> load(const std::string& name, const stepwise::LoadOptions& options = {});

// A fixture as the parity tests load it: every fixture as this build loads it by default, and the Q8
// one also with its int8 matrices kept int8, all dequantized to float32, and a mix of the two (both
// kernels in one model), whatever the build's default (LoadOptions::dequantize_up_to).
struct Loading {
  std::string name;  // the fixture
  stepwise::LoadOptions options;
  std::string label;  // the fixture, and how its matrices are held when that is not the default
};
const std::vector<Loading>& loadings();
const json& golden(const std::string& name);

// Largest |a - b| between a golden matrix (nested JSON arrays) and an engine matrix.
double max_abs_diff(const json& expected, const stepwise::RowMatrix& actual);

std::vector<uint8_t> read_bytes(const std::string& path);

// A safetensors file as its parts: the JSON header and the data section.
struct SafetensorsParts {
  json header;
  std::vector<uint8_t> data;
  static SafetensorsParts split(const std::vector<uint8_t>& bytes);
  std::vector<uint8_t> join() const;
  json config() const;                  // __metadata__["stepwise"], parsed
  void set_config(const json& config);  // stores it back
  // Removes a tensor, closing the gap in the data section; appends a float32 tensor at the end.
  void remove(const std::string& name);
  void add(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& values);
  void add_raw(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
               const std::vector<uint8_t>& bytes);
  // Re-stores every F32 tensor as F16 (rounded to nearest even).
  void to_f16();
};

}  // namespace fixtures

// A strict reader of the safetensors container (https://huggingface.co/docs/safetensors):
//
//   [8 bytes: N, little-endian u64][N bytes: JSON header][data section: raw little-endian tensors]
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative
// to the data section) and may hold "__metadata__": {string: string}. The reader checks everything
// before any tensor byte is touched: lengths, JSON, dtypes, shapes, that each tensor's byte range lies
// inside the data section and matches its shape, and that ranges neither overlap nor leave holes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stepwise {

enum class DType { F32, F16, I8 };

struct TensorInfo {
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range within the data section
  int64_t elements() const;
};

class Safetensors {
 public:
  // Parses and validates; `origin` (a file name) prefixes every error message. The bytes are not
  // copied: `bytes` must outlive this object.
  Safetensors(const uint8_t* bytes, size_t size, std::string origin);

  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& origin() const { return origin_; }

  // Converts a tensor to float32 into `out` (which must hold elements() floats), rejecting NaN and Inf.
  // I8 values are converted as they are; their scales are the model loader's business.
  void read_f32(const std::string& name, float* out) const;
  // Copies an I8 tensor's values as they are into `out` (elements() bytes).
  void read_i8(const std::string& name, int8_t* out) const;

 private:
  const uint8_t* data_ = nullptr;  // start of the data section
  std::string origin_;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);  // round to nearest even; used by tests and tools

}  // namespace stepwise

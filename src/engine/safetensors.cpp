#include "safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "error.h"
#include "json_guard.h"
#include "utf8.h"

namespace stepwise {

using json = nlohmann::json;

namespace {

constexpr uint64_t kMaxHeaderBytes = 100 * 1000 * 1000;  // the limit the reference implementation uses

size_t dtype_bytes(DType t) { return t == DType::F32 ? 4 : t == DType::F16 ? 2 : 1; }

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

uint32_t read_u32_le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

int64_t TensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1F;
  uint32_t mantissa = h & 0x3FF;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000 | (mantissa << 13);  // Inf / NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;  // +-0
  } else {        // subnormal: renormalise
    exponent = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3FF) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  uint32_t abs = x & 0x7FFFFFFF;
  if (abs >= 0x7F800000) return sign | 0x7C00 | (abs > 0x7F800000 ? 0x200 : 0);  // Inf / NaN
  if (abs >= 0x477FF000) return sign | 0x7C00;                                    // overflows to Inf
  if (abs < 0x38800000) {                                                          // subnormal or zero
    if (abs < 0x33000000) return sign;
    uint32_t mantissa = (abs & 0x7FFFFF) | 0x800000;
    int shift = 126 - static_cast<int>(abs >> 23);  // value / 2^-24 = mantissa >> shift, shift in [14, 24]
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1), midpoint = 1u << (shift - 1);
    if (rest > midpoint || (rest == midpoint && (half & 1))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t half = ((abs >> 13) - (112u << 10));
  uint32_t rest = abs & 0x1FFF;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return sign | static_cast<uint16_t>(half);
}

Safetensors::Safetensors(const uint8_t* bytes, size_t size, std::string origin) : origin_(std::move(origin)) {
  if (size < 8) fail(origin_, ": not a safetensors file: ", size, " bytes, shorter than the 8-byte header length");
  uint64_t header_len = read_u32_le(bytes) | static_cast<uint64_t>(read_u32_le(bytes + 4)) << 32;
  if (header_len > size - 8)
    fail(origin_, ": header length ", header_len, " runs past the end of the file (", size - 8,
         " bytes follow the length field)");
  if (header_len > kMaxHeaderBytes) fail(origin_, ": header length ", header_len, " exceeds ", kMaxHeaderBytes, " bytes");
  const char* text = reinterpret_cast<const char*>(bytes + 8);
  json header = parse_bounded(text, text + header_len, origin_ + ": the safetensors header");
  if (!header.is_object()) fail(origin_, ": the safetensors header must be a JSON object, got ", header.type_name());

  data_ = bytes + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(origin_, ": __metadata__ must be an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          fail(origin_, ": __metadata__[\"", utf8::printable(key), "\"] must be a string, got ", value.type_name());
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string where = origin_ + ": tensor '" + utf8::printable(name) + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
      fail(where, " must be an object with dtype, shape and data_offsets");
    for (const auto& [field, value] : entry.items())
      if (field != "dtype" && field != "shape" && field != "data_offsets")
        fail(where, " has the unknown field \"", utf8::printable(field), "\" (a tensor has dtype, shape and data_offsets)");
    const json& dtype = entry["dtype"];
    TensorInfo info{};
    if (dtype == "F32") {
      info.dtype = DType::F32;
    } else if (dtype == "F16") {
      info.dtype = DType::F16;
    } else if (dtype == "I8") {
      info.dtype = DType::I8;
    } else {
      fail(where, " has dtype ", brief(dtype), "; supported: \"F32\", \"F16\", \"I8\"");
    }
    const json& shape = entry["shape"];
    if (!shape.is_array() || shape.size() > 8) fail(where, " has a malformed shape ", brief(shape));
    uint64_t elements = 1;
    for (const json& d : shape) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (1ull << 32))
        fail(where, " has a malformed shape ", brief(shape), " (dimensions must be integers in [0, 2^32])");
      info.shape.push_back(d.get<int64_t>());
      elements *= d.get<uint64_t>();
      if (elements > (1ull << 40)) fail(where, " has an absurd shape ", brief(shape));
    }
    const json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      fail(where, " has malformed data_offsets ", brief(offsets), " (expected [begin, end])");
    info.begin = offsets[0].get<uint64_t>();
    info.end = offsets[1].get<uint64_t>();
    if (info.begin > info.end || info.end > data_size)
      fail(where, " has data_offsets [", info.begin, ", ", info.end, "] outside the data section of ", data_size,
           " bytes");
    if (info.end - info.begin != elements * dtype_bytes(info.dtype))
      fail(where, " has shape ", shape_string(info.shape), " (", elements, " values, ", elements * dtype_bytes(info.dtype),
           " bytes) but data_offsets span ", info.end - info.begin, " bytes");
    tensors_.emplace(name, std::move(info));
  }

  // Byte ranges must tile the data section exactly: no overlap, no hole, nothing left over.
  std::vector<std::pair<uint64_t, const std::string*>> starts;
  for (const auto& [name, info] : tensors_) starts.emplace_back(info.begin, &name);
  std::sort(starts.begin(), starts.end());
  uint64_t covered = 0;
  const std::string* previous = nullptr;
  for (const auto& [begin, name] : starts) {
    const TensorInfo& info = tensors_.at(*name);
    if (info.begin == info.end) continue;
    if (begin < covered)
      fail(origin_, ": tensor '", utf8::printable(*name), "' (bytes ", info.begin, "-", info.end, ") overlaps tensor '",
           utf8::printable(*previous),
           "' (ending at byte ", covered, ")");
    if (begin > covered) fail(origin_, ": bytes ", covered, "-", begin, " of the data section belong to no tensor");
    covered = info.end;
    previous = name;
  }
  if (covered != data_size)
    fail(origin_, ": the data section has ", data_size, " bytes but its tensors end at byte ", covered);
}

void Safetensors::read_f32(const std::string& name, float* out) const {
  const TensorInfo& info = tensors_.at(name);
  const uint8_t* p = data_ + info.begin;
  const int64_t n = info.elements();
  for (int64_t i = 0; i < n; ++i) {
    if (info.dtype == DType::F32) {
      uint32_t bits = read_u32_le(p + 4 * i);
      std::memcpy(&out[i], &bits, 4);
    } else if (info.dtype == DType::I8) {
      out[i] = static_cast<float>(static_cast<int8_t>(p[i]));
    } else {
      out[i] = half_to_float(static_cast<uint16_t>(p[2 * i] | p[2 * i + 1] << 8));
    }
    if (!std::isfinite(out[i]))
      fail(origin_, ": tensor '", utf8::printable(name), "' holds ", std::isnan(out[i]) ? "NaN" : "Inf", " at index ", i);
  }
}

void Safetensors::read_i8(const std::string& name, int8_t* out) const {
  const TensorInfo& info = tensors_.at(name);
  if (info.dtype != DType::I8) fail(origin_, ": tensor '", utf8::printable(name), "' is not I8");
  std::memcpy(out, data_ + info.begin, static_cast<size_t>(info.elements()));
}

}  // namespace stepwise

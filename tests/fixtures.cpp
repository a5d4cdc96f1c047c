#include "fixtures.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>

namespace fixtures {

const std::vector<std::string>& names() {
  static const std::vector<std::string> all = {
      "postnorm_relu_sinusoidal",    "postnorm_relu_sinusoidal_f16", "prenorm_gelu_learned_tied",
      "prenorm_gelu_learned_tied_q8", "postnorm_gelu_3layers_1head", "prenorm_relu_mixed_depth",
      "decoder_only_prenorm_gelu",   "decoder_only_postnorm_relu"};
  return all;
}

std::string model_path(const std::string& name) { return std::string(STEPWISE_FIXTURES) + "/" + name + ".safetensors"; }

std::shared_ptr<const stepwise::Model> load(const std::string& name, const stepwise::LoadOptions& options) {
  return stepwise::Model::load_file(model_path(name), options);
}

const std::vector<Loading>& loadings() {
  static const std::vector<Loading> all = [] {
    std::vector<Loading> list;
    for (const std::string& name : names()) list.push_back({name, {}, name});
    // The Q8 fixture's matrices: in_proj [48, 16], out_proj [16, 16], linear1 [24, 16], linear2 [16, 24],
    // the tied output layer [10, 16]. Up to 384 weights: all but the in_proj ones are dequantized.
    const std::string q8 = "prenorm_gelu_learned_tied_q8";
    list.push_back({q8, stepwise::LoadOptions{0}, q8 + " (int8 matrices)"});
    list.push_back({q8, stepwise::LoadOptions{384}, q8 + " (in_proj int8, the other matrices float32)"});
    list.push_back({q8, stepwise::LoadOptions{1L << 30}, q8 + " (every matrix dequantized to float32)"});
    return list;
  }();
  return all;
}

const json& golden(const std::string& name) {
  static std::map<std::string, json> cache;
  auto it = cache.find(name);
  if (it == cache.end()) {
    std::ifstream in(std::string(STEPWISE_FIXTURES) + "/" + name + ".golden.json");
    if (!in) throw std::runtime_error("missing golden file for " + name + "; run tools/make_fixtures.py");
    it = cache.emplace(name, json::parse(in)).first;
  }
  return it->second;
}

double max_abs_diff(const json& expected, const stepwise::RowMatrix& actual) {
  if (static_cast<Eigen::Index>(expected.size()) != actual.rows()) return INFINITY;
  double worst = 0.0;
  for (Eigen::Index r = 0; r < actual.rows(); ++r) {
    if (static_cast<Eigen::Index>(expected[r].size()) != actual.cols()) return INFINITY;
    for (Eigen::Index c = 0; c < actual.cols(); ++c)
      worst = std::max(worst, std::fabs(expected[r][c].get<double>() - static_cast<double>(actual(r, c))));
  }
  return worst;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

SafetensorsParts SafetensorsParts::split(const std::vector<uint8_t>& bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  SafetensorsParts parts;
  parts.header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  parts.data.assign(bytes.begin() + 8 + static_cast<long>(n), bytes.end());
  return parts;
}

std::vector<uint8_t> SafetensorsParts::join() const {
  const std::string text = header.dump();
  std::vector<uint8_t> out(8 + text.size() + data.size());
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  std::copy(text.begin(), text.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<long>(text.size()));
  return out;
}

json SafetensorsParts::config() const { return json::parse(header["__metadata__"]["stepwise"].get<std::string>()); }

void SafetensorsParts::remove(const std::string& name) {
  const uint64_t begin = header[name]["data_offsets"][0], end = header[name]["data_offsets"][1];
  data.erase(data.begin() + static_cast<long>(begin), data.begin() + static_cast<long>(end));
  header.erase(name);
  for (auto& [key, entry] : header.items()) {
    if (key == "__metadata__") continue;
    for (int i = 0; i < 2; ++i)
      if (entry["data_offsets"][i].get<uint64_t>() >= end) entry["data_offsets"][i] = entry["data_offsets"][i].get<uint64_t>() - (end - begin);
  }
}

void SafetensorsParts::add(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& values) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(values.data());
  add_raw(name, "F32", shape, std::vector<uint8_t>(bytes, bytes + values.size() * sizeof(float)));
}

void SafetensorsParts::add_raw(const std::string& name, const std::string& dtype, const std::vector<int64_t>& shape,
                               const std::vector<uint8_t>& bytes) {
  const uint64_t begin = data.size();
  data.insert(data.end(), bytes.begin(), bytes.end());
  header[name] = {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, data.size()}}};
}

void SafetensorsParts::to_f16() {
  std::vector<uint8_t> out;
  // rebuild in offset order so the data section stays contiguous
  std::vector<std::pair<uint64_t, std::string>> order;
  for (auto& [key, entry] : header.items())
    if (key != "__metadata__") order.emplace_back(entry["data_offsets"][0].get<uint64_t>(), key);
  std::sort(order.begin(), order.end());
  for (const auto& [begin, key] : order) {
    json& entry = header[key];
    const uint64_t end = entry["data_offsets"][1];
    const uint64_t new_begin = out.size();
    if (entry["dtype"] == "F32") {
      for (uint64_t i = begin; i < end; i += 4) {
        float f;
        std::memcpy(&f, data.data() + i, 4);
        const uint16_t h = stepwise::float_to_half(f);
        out.push_back(static_cast<uint8_t>(h & 0xFF));
        out.push_back(static_cast<uint8_t>(h >> 8));
      }
      entry["dtype"] = "F16";
    } else {
      out.insert(out.end(), data.begin() + static_cast<long>(begin), data.begin() + static_cast<long>(end));
    }
    entry["data_offsets"] = {new_begin, out.size()};
  }
  data = std::move(out);
}

void SafetensorsParts::set_config(const json& config) { header["__metadata__"]["stepwise"] = config.dump(); }

}  // namespace fixtures

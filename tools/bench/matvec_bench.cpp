#include "matvec_bench.h"

#include <cstdint>

#include "kernels.h"
#include "timing.h"

namespace stepwise::bench {

namespace {

using MatvecKernel = void (*)(const float*, const float*, const float*, float*, int, int);

// Deterministic values in [-1, 1) (a 32-bit LCG): the same inputs in every build.
std::vector<float> random_values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / 8388608.0f - 1.0f;
  }
  return v;
}

}  // namespace

nlohmann::json matvec_benchmark(const std::vector<std::pair<int, int>>& shapes, int samples, double min_seconds) {
  std::vector<std::pair<const char*, MatvecKernel>> kernel_list = {{"eigen", kernels::eigen::matvec}};
#if defined(__wasm_simd128__)
  kernel_list.emplace_back("wasm-simd128", kernels::simd::matvec);
#endif
  nlohmann::json out = nlohmann::json::array();
  for (const auto& shape : shapes) {
    const int rows = shape.first, cols = shape.second;
    const std::vector<float> W = random_values(static_cast<size_t>(rows) * cols, 1);
    const std::vector<float> b = random_values(rows, 2), x = random_values(cols, 3);
    std::vector<float> y(rows);
    const size_t k = kernel_list.size();
    std::vector<long long> calls(k);
    for (size_t i = 0; i < k; ++i) {
      const MatvecKernel kernel = kernel_list[i].second;
      calls[i] = calibrate([&] { kernel(W.data(), b.data(), x.data(), y.data(), rows, cols); }, min_seconds);
    }
    // The kernels take turns, sample by sample, so that a change in the machine's load hits both alike;
    // their ratio is taken per pair of samples.
    std::vector<std::vector<double>> seconds(k);
    std::vector<double> ratios;
    for (int s = 0; s < std::max(1, samples); ++s) {
      for (size_t i = 0; i < k; ++i) {
        const MatvecKernel kernel = kernel_list[i].second;
        seconds[i].push_back(sample([&] { kernel(W.data(), b.data(), x.data(), y.data(), rows, cols); }, calls[i]));
      }
      if (k == 2) ratios.push_back(seconds[0].back() / seconds[1].back());
    }
    nlohmann::json entry = {{"rows", rows}, {"cols", cols}, {"kernels", nlohmann::json::object()}};
    for (size_t i = 0; i < k; ++i)
      entry["kernels"][kernel_list[i].first] = summarize(seconds[i], calls[i]).rate(matvec_flops(rows, cols) * 1e-9);
    if (!ratios.empty()) {
      const Stats r = summarize(ratios, 1);
      entry["simd_over_eigen"] = {{"median", r.median}, {"min", r.min}, {"max", r.max}};  // speed-up, per sample pair
    }
    out.push_back(entry);
  }
  return out;
}

}  // namespace stepwise::bench

#include "matvec_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels.h"
#include "timing.h"

namespace stepwise::bench {

namespace {

// One kernel under test: float32 weights or int8 ones (with per-row scales), on the same shape.
struct Kernel {
  const char* name;
  bool int8;
  void (*f32)(const float*, const float*, const float*, float*, int, int);
  void (*q8)(const int8_t*, const float*, const float*, const float*, float*, int, int);
};

// Deterministic values in [-1, 1) (a 32-bit LCG): the same inputs in every build.
std::vector<float> random_values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / 8388608.0f - 1.0f;
  }
  return v;
}

// The float32 kernels, then the int8 ones this build and CPU have (kernels.h): the first of each kind is
// the one the engine runs when there is no faster one after it.
std::vector<Kernel> kernel_list() {
  std::vector<Kernel> list = {{"eigen", false, kernels::eigen::matvec, nullptr}};
#if defined(__wasm_simd128__)
  list.push_back({"wasm-simd128", false, kernels::simd::matvec, nullptr});
  list.push_back({"q8-simd128", true, nullptr, kernels::simd::matvec_q8});
#elif defined(STEPWISE_KERNELS_X86)
  list.push_back({"q8-sse2", true, nullptr, kernels::sse2::matvec_q8});
  if (kernels::avx2::supported()) list.push_back({"q8-avx2", true, nullptr, kernels::avx2::matvec_q8});
  if (kernels::avx512::supported()) list.push_back({"q8-avx512", true, nullptr, kernels::avx512::matvec_q8});
#else
  list.push_back({"q8-eigen", true, nullptr, kernels::eigen::matvec_q8});
#endif
  return list;
}

}  // namespace

nlohmann::json matvec_benchmark(const std::vector<std::pair<int, int>>& shapes, int samples, double min_seconds) {
  const std::vector<Kernel> list = kernel_list();
  // The kernels the engine runs: the last float32 one and the last int8 one in the list.
  size_t f32_used = 0, q8_used = 0;
  for (size_t i = 0; i < list.size(); ++i) (list[i].int8 ? q8_used : f32_used) = i;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& shape : shapes) {
    const int rows = shape.first, cols = shape.second;
    const std::vector<float> W = random_values(static_cast<size_t>(rows) * cols, 1);
    const std::vector<float> b = random_values(rows, 2), x = random_values(cols, 3);
    // The same weights as int8 with per-row scales, as tools/stepwise_py/export.py quantizes them.
    std::vector<int8_t> Wq(W.size());
    std::vector<float> scale(rows);
    for (int r = 0; r < rows; ++r) {
      float largest = 0.0f;
      for (int c = 0; c < cols; ++c) largest = std::max(largest, std::fabs(W[static_cast<size_t>(r) * cols + c]));
      scale[r] = largest > 0.0f ? largest / 127.0f : 1.0f;
      for (int c = 0; c < cols; ++c)
        Wq[static_cast<size_t>(r) * cols + c] = static_cast<int8_t>(std::lround(W[static_cast<size_t>(r) * cols + c] / scale[r]));
    }
    std::vector<float> y(rows);
    const size_t k = list.size();
    auto call = [&](size_t i) {
      if (list[i].int8)
        list[i].q8(Wq.data(), scale.data(), b.data(), x.data(), y.data(), rows, cols);
      else
        list[i].f32(W.data(), b.data(), x.data(), y.data(), rows, cols);
    };
    std::vector<long long> calls(k);
    for (size_t i = 0; i < k; ++i) calls[i] = calibrate([&] { call(i); }, min_seconds);
    // The kernels take turns, sample by sample, so that a change in the machine's load hits all alike;
    // ratios are taken per round of samples.
    std::vector<std::vector<double>> seconds(k);
    std::vector<double> simd_ratios, q8_ratios;
    for (int s = 0; s < std::max(1, samples); ++s) {
      for (size_t i = 0; i < k; ++i) seconds[i].push_back(sample([&] { call(i); }, calls[i]));
      if (f32_used != 0) simd_ratios.push_back(seconds[0].back() / seconds[f32_used].back());
      q8_ratios.push_back(seconds[f32_used].back() / seconds[q8_used].back());
    }
    nlohmann::json entry = {{"rows", rows}, {"cols", cols}, {"kernels", nlohmann::json::object()},
                            // bytes of weights each call reads: float32, or int8 plus a float32 scale per row
                            {"weight_bytes", {{"f32", 4.0 * rows * cols}, {"q8", 1.0 * rows * cols + 4.0 * rows}}}};
    for (size_t i = 0; i < k; ++i)
      entry["kernels"][list[i].name] = summarize(seconds[i], calls[i]).rate(matvec_flops(rows, cols) * 1e-9);
    auto ratio = [](const std::vector<double>& r) {
      const Stats st = summarize(r, 1);
      return nlohmann::json{{"median", st.median}, {"min", st.min}, {"max", st.max}};
    };
    if (!simd_ratios.empty()) entry["simd_over_eigen"] = ratio(simd_ratios);  // speed-up, per sample pair
    entry["q8_over_f32"] = ratio(q8_ratios);  // the int8 kernel's speed-up over the float32 one the engine runs
    out.push_back(entry);
  }
  return out;
}

}  // namespace stepwise::bench

// The machine's ceiling for the decoder step's main cost: y = W x + b on row-major float32 weights,
// timed for every kernel the build has (kernels::eigen; kernels::simd in WebAssembly SIMD builds), and
// the same product over the weights quantized to int8 with per-row scales (q8-sse2, q8-avx2 and q8-avx512 natively,
// q8-simd128 in WebAssembly).
#pragma once

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace stepwise::bench {

// For each (rows, cols): {"rows", "cols", "kernels": {NAME: GFLOP/s {median, min, max, ...}}, "weight_bytes":
// {"f32", "q8"}, "q8_over_f32" and, in WebAssembly SIMD builds, "simd_over_eigen": speed-ups {median, min, max}}.
nlohmann::json matvec_benchmark(const std::vector<std::pair<int, int>>& shapes, int samples, double min_seconds);

// The same product's floating-point operations: one multiply and one add per weight, plus the bias.
inline double matvec_flops(int rows, int cols) { return 2.0 * rows * cols + rows; }

}  // namespace stepwise::bench

// The machine's ceiling for the decoder step's main cost: y = W x + b on row-major float32 weights,
// timed for every kernel the build has (kernels::eigen; kernels::simd in WebAssembly SIMD builds).
#pragma once

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace stepwise::bench {

// For each (rows, cols): {"rows", "cols", "kernels": {NAME: GFLOP/s {median, min, max, ...}}}.
nlohmann::json matvec_benchmark(const std::vector<std::pair<int, int>>& shapes, int samples, double min_seconds);

// The same product's floating-point operations: one multiply and one add per weight, plus the bias.
inline double matvec_flops(int rows, int cols) { return 2.0 * rows * cols + rows; }

}  // namespace stepwise::bench

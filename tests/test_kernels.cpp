// The native kernels: the matrix-matrix path of linear_rows (inputs longer than 16 rows) and the
// row-by-row path agree with plain double-precision sums. (The WebAssembly SIMD kernels are held to
// these Eigen ones in tests/wasm/kernels_test.cpp.)
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "stepwise.h"

using namespace stepwise;

TEST_CASE("linear_rows and matvec compute X W^T + b", "[kernels]") {
  Pcg32 rng(3);
  for (int n : {1, 3, 16, 17, 40}) {
    const int rows = 24, cols = 20;
    std::vector<float> X(n * cols), W(rows * cols), b(rows), Y(n * rows);
    for (float& v : X) v = rng.uniform() - 0.5f;
    for (float& v : W) v = rng.uniform() - 0.5f;
    for (float& v : b) v = rng.uniform() - 0.5f;
    kernels::linear_rows(X.data(), n, W.data(), b.data(), Y.data(), rows, cols);
    for (int i = 0; i < n; ++i)
      for (int r = 0; r < rows; ++r) {
        double expected = b[r];
        for (int k = 0; k < cols; ++k) expected += static_cast<double>(X[i * cols + k]) * W[r * cols + k];
        REQUIRE(std::fabs(Y[i * rows + r] - expected) <= 1e-5);
      }
  }
}

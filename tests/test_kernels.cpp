// The native kernels: the matrix-matrix path of linear_rows (inputs longer than 16 rows) and the
// row-by-row path agree with plain double-precision sums; so do the int8 reference kernels, and the
// SSE2 and AVX2 int8 kernels match them. (The WebAssembly SIMD kernels are held to these Eigen ones in
// tests/wasm/kernels_test.cpp.)
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
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

// ---------------------------------------------------------------------------------------------------
// Int8 weights with per-row scales: y[r] = scale[r] * sum_c W[r, c] x[c] + b[r].
// The reference (kernels::eigen) is held to double-precision sums; every native path this CPU has (SSE2
// always, AVX2 + FMA when supported, each called directly, not only the one the dispatcher picks) is held
// to the reference on shapes that leave every remainder of their 4-row, 8- and 16-column steps, on two
// kinds of input:
//  * integers (x in -3..3, scales powers of two): every partial sum is exact in float32 in any order, so
//    the results must be equal bit for bit -- a wrong index, a lost tail or a doubled column shows;
//  * floats: summation order differs, so |kernel - reference| <= 1e-5 * sum_c |scale W x| + |b| (float32
//    reordering error is ~1e-7 of that for these lengths; one lost term would be far above).

namespace {

struct Q8Case {
  int rows, cols;
  std::vector<int8_t> W;
  std::vector<float> scale, b, x;
  Q8Case(int rows_, int cols_, int n, bool integers, Pcg32& rng) : rows(rows_), cols(cols_) {
    W.resize(static_cast<size_t>(rows) * cols);
    for (int8_t& w : W) w = static_cast<int8_t>(static_cast<int>(rng.uniform() * 255.0f) - 127);
    scale.resize(rows);
    for (float& s : scale) s = integers ? std::ldexp(1.0f, -static_cast<int>(rng.uniform() * 4.0f)) : 0.02f * rng.uniform();
    b.resize(rows);
    for (float& v : b) v = integers ? std::round(rng.uniform() * 6.0f - 3.0f) : rng.uniform() - 0.5f;
    x.resize(static_cast<size_t>(n) * cols);
    for (float& v : x) v = integers ? std::round(rng.uniform() * 6.0f - 3.0f) : rng.uniform() - 0.5f;
  }
  // sum_c |scale W x| + |b| for output (i, r): the tolerance's scale.
  double magnitude(int i, int r) const {
    double s = std::fabs(b[r]);
    for (int c = 0; c < cols; ++c)
      s += std::fabs(static_cast<double>(scale[r]) * W[static_cast<size_t>(r) * cols + c] * x[static_cast<size_t>(i) * cols + c]);
    return s;
  }
};

using MatvecQ8 = void (*)(const int8_t*, const float*, const float*, const float*, float*, int, int);
using LinearRowsQ8 = void (*)(const float*, int, const int8_t*, const float*, const float*, float*, int, int);

struct NativeQ8 {
  const char* name;
  MatvecQ8 matvec;
  LinearRowsQ8 linear_rows;
};

std::vector<NativeQ8> native_q8_kernels() {
  std::vector<NativeQ8> list;
#if defined(STEPWISE_KERNELS_X86)
  list.push_back({"sse2", kernels::sse2::matvec_q8, kernels::sse2::linear_rows_q8});
  if (kernels::avx2::supported()) list.push_back({"avx2", kernels::avx2::matvec_q8, kernels::avx2::linear_rows_q8});
  if (kernels::avx512::supported())
    list.push_back({"avx512", kernels::avx512::matvec_q8, kernels::avx512::linear_rows_q8});
#endif
  return list;
}

void require_close(const Q8Case& c, int n, const std::vector<float>& got, const std::vector<float>& want, bool integers) {
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < c.rows; ++r) {
      const size_t at = static_cast<size_t>(i) * c.rows + r;
      INFO("output " << i << ", row " << r << ": got " << got[at] << ", reference " << want[at]);
      if (integers)
        REQUIRE(got[at] == want[at]);
      else
        REQUIRE(std::fabs(got[at] - want[at]) <= 1e-5 * c.magnitude(i, r));
    }
}

const int kQ8Rows[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 31, 72};
const int kQ8Cols[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 24, 31, 32, 33, 63, 64, 65, 100};
// The G2P model's shapes (d 128, d_ff 512, vocab 72) and the base-shaped model's (d 512, d_ff 2048).
const std::pair<int, int> kModelShapes[] = {{384, 128}, {128, 512}, {72, 128}, {1536, 512}, {512, 2048}, {263, 1001}};

}  // namespace

TEST_CASE("the int8 reference kernels compute scale * (W x) + b", "[kernels][q8]") {
  Pcg32 rng(11);
  for (int n : {1, 3, 16, 17, 40}) {
    for (int rows : {1, 5, 24, 67})
      for (int cols : {1, 7, 20, 33}) {
        const Q8Case c(rows, cols, n, false, rng);
        std::vector<float> Y(static_cast<size_t>(n) * rows);
        kernels::eigen::linear_rows_q8(c.x.data(), n, c.W.data(), c.scale.data(), c.b.data(), Y.data(), rows, cols);
        std::vector<float> y(rows);
        for (int i = 0; i < n; ++i) {
          kernels::eigen::matvec_q8(c.W.data(), c.scale.data(), c.b.data(), c.x.data() + static_cast<size_t>(i) * cols,
                                    y.data(), rows, cols);
          for (int r = 0; r < rows; ++r) {
            double expected = c.b[r], dot = 0.0;
            for (int k = 0; k < cols; ++k) dot += static_cast<double>(c.W[static_cast<size_t>(r) * cols + k]) * c.x[static_cast<size_t>(i) * cols + k];
            expected += c.scale[r] * dot;
            INFO("n " << n << ", " << rows << "x" << cols << ", output " << i << ", row " << r);
            REQUIRE(std::fabs(Y[static_cast<size_t>(i) * rows + r] - expected) <= 1e-5 * (c.magnitude(i, r) + 1e-30));
            REQUIRE(std::fabs(y[r] - expected) <= 1e-5 * (c.magnitude(i, r) + 1e-30));
          }
        }
      }
  }
}

TEST_CASE("every native int8 kernel matches the reference", "[kernels][q8]") {
  const std::vector<NativeQ8> list = native_q8_kernels();
#if defined(STEPWISE_KERNELS_X86)
  REQUIRE(list.size() >= 1);  // SSE2 at least, on every x86 CPU
#endif
  std::vector<std::pair<int, int>> shapes;
  for (int r : kQ8Rows)
    for (int c : kQ8Cols) shapes.emplace_back(r, c);
  for (const auto& s : kModelShapes) shapes.push_back(s);
  for (const NativeQ8& k : list) {
    Pcg32 rng(5);
    for (bool integers : {true, false})
      for (const auto& [rows, cols] : shapes) {
        INFO(k.name << " matvec_q8 " << rows << "x" << cols << (integers ? " integers" : " floats"));
        const Q8Case c(rows, cols, 1, integers, rng);
        std::vector<float> got(rows, NAN), want(rows, NAN), no_bias(rows, NAN), want_no_bias(rows, NAN);
        k.matvec(c.W.data(), c.scale.data(), c.b.data(), c.x.data(), got.data(), rows, cols);
        kernels::eigen::matvec_q8(c.W.data(), c.scale.data(), c.b.data(), c.x.data(), want.data(), rows, cols);
        require_close(c, 1, got, want, integers);
        k.matvec(c.W.data(), c.scale.data(), nullptr, c.x.data(), no_bias.data(), rows, cols);
        kernels::eigen::matvec_q8(c.W.data(), c.scale.data(), nullptr, c.x.data(), want_no_bias.data(), rows, cols);
        Q8Case zero_bias = c;
        std::fill(zero_bias.b.begin(), zero_bias.b.end(), 0.0f);
        require_close(zero_bias, 1, no_bias, want_no_bias, integers);
      }
    // linear_rows_q8: the path for a few input rows (n <= 16: every n, so every grouping of the input
    // rows and its remainder) and the blocked GEMM (n > 16); row counts not a multiple of 4 and column
    // counts with every remainder of 8 and 16.
    for (bool integers : {true, false})
      for (int n : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 33})
        for (const auto& [rows, cols] : {std::pair{1, 1}, std::pair{3, 7}, std::pair{5, 8}, std::pair{9, 17}, std::pair{6, 23},
                                         std::pair{13, 31}, std::pair{72, 128}, std::pair{130, 65}, std::pair{384, 128},
                                         std::pair{37, 700}}) {
          INFO(k.name << " linear_rows_q8 n " << n << ", " << rows << "x" << cols << (integers ? " integers" : " floats"));
          const Q8Case c(rows, cols, n, integers, rng);
          std::vector<float> got(static_cast<size_t>(n) * rows, NAN), want(static_cast<size_t>(n) * rows, NAN);
          k.linear_rows(c.x.data(), n, c.W.data(), c.scale.data(), c.b.data(), got.data(), rows, cols);
          kernels::eigen::linear_rows_q8(c.x.data(), n, c.W.data(), c.scale.data(), c.b.data(), want.data(), rows, cols);
          require_close(c, n, got, want, integers);
        }
  }
}

TEST_CASE("kernels::matvec runs a matrix in the form it has; name() says which int8 kernels run", "[kernels][q8]") {
  Pcg32 rng(9);
  const Q8Case c(33, 47, 1, false, rng);
  std::vector<float> dequantized(c.W.size());
  for (int r = 0; r < c.rows; ++r)
    for (int k = 0; k < c.cols; ++k) dequantized[static_cast<size_t>(r) * c.cols + k] = c.W[static_cast<size_t>(r) * c.cols + k] * c.scale[r];
  std::vector<float> from_q8(c.rows), from_f32(c.rows);
  kernels::matvec(kernels::Matrix{nullptr, c.W.data(), c.scale.data()}, c.b.data(), c.x.data(), from_q8.data(), c.rows, c.cols);
  kernels::matvec(kernels::Matrix{dequantized.data(), nullptr, nullptr}, c.b.data(), c.x.data(), from_f32.data(), c.rows, c.cols);
  require_close(c, 1, from_q8, from_f32, false);
  const std::string name = kernels::name();
#if defined(STEPWISE_KERNELS_X86)
  // The best tier the CPU has, capped by STEPWISE_MAX_ISA when set (ctest also runs this with each cap).
  const std::vector<std::string> tiers = {"sse2", "avx2", "avx512"};
  size_t best = kernels::avx512::supported() ? 2 : kernels::avx2::supported() ? 1 : 0;
  const char* cap = std::getenv("STEPWISE_MAX_ISA");
  if (cap && *cap) {
    const auto at = std::find(tiers.begin(), tiers.end(), std::string(cap));
    if (at != tiers.end()) best = std::min(best, static_cast<size_t>(at - tiers.begin()));
  }
  CHECK(name == "eigen + q8-" + tiers[best]);
#else
  CHECK(name == "eigen + q8-eigen");
#endif
}

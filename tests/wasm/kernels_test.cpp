// The WebAssembly SIMD kernels (kernels::simd) against the Eigen reference (kernels::eigen), on the same
// inputs, in the same WebAssembly build. Run: node build-wasm/stepwise-kernel-tests.js (exit status 0 when
// every case passes); tests/wasm/kernels.test.mjs runs it under `node --test tests/wasm/`.
//
// Shapes: every remainder of the kernels' 4-, 8- and 16-wide loops (odd sizes, one off a multiple), the
// shipped G2P model's shapes and the base-shaped model's, matrices big enough for the streaming path;
// pointers both aligned and one float off.
// Two kinds of input, with two tolerances:
//  * small integers (-3..3): every partial sum is an integer below 2^24, so exact in float32 in any
//    order -- the SIMD result must equal Eigen's bit for bit. Catches a wrong index, a skipped or doubled
//    element, a tail left out, whatever the magnitudes.
//  * uniform floats in [-1, 1): the kernels sum in another order than Eigen, so results differ by
//    rounding. Tolerance per output: |simd - eigen| <= 1e-5 * (sum_j |w_j x_j| + |b|), the scale of the
//    sum's terms. Float32 reordering errors here are ~1e-7 of that scale (sqrt(n) * 2^-24, n <= 2048);
//    one missing term of a 2048-long product would be ~5e-4 of it.
// axpy (y += a x) rounds each element once, the same way in both: it must match exactly.
// The int8 kernels (matvec_q8, linear_rows_q8: y = scale * (W x) + b with W int8) likewise: with small
// integer x and b and power-of-two scales every partial sum is exact, so they must match bit for bit;
// with float x the tolerance is taken over the terms scale * W x.
#if !defined(__wasm_simd128__)
#error "build with -msimd128: these tests compare kernels::simd with kernels::eigen"
#endif
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels.h"

namespace k = stepwise::kernels;

namespace {

constexpr double kTolerance = 1e-5;

int failures = 0, cases = 0;
double worst_relative = 0.0;  // over the float cases: max |simd - eigen| / scale

enum class Values { Integers, Floats };

struct Rng {
  uint32_t state;
  float next(Values kind) {
    state = state * 1664525u + 1013904223u;
    if (kind == Values::Integers) return static_cast<float>(static_cast<int>((state >> 8) % 7u) - 3);
    return static_cast<float>(state >> 8) / 8388608.0f - 1.0f;
  }
};

// `n` values starting `offset` floats into a fresh buffer (offset 1: not 16-byte aligned).
struct Buffer {
  std::vector<float> storage;
  float* data;
  Buffer(size_t n, int offset, Values kind, Rng& rng) : storage(n + 4) {
    data = storage.data() + offset;
    for (size_t i = 0; i < n; ++i) data[i] = rng.next(kind);
  }
};

const char* name(Values v) { return v == Values::Integers ? "integers" : "floats"; }

// Compares outputs; `scale[i]` is sum_j |terms| of output i (tolerance reference for floats).
void compare(const std::string& what, Values kind, const float* simd, const float* eigen, const std::vector<double>& scale,
             size_t n) {
  ++cases;
  for (size_t i = 0; i < n; ++i) {
    const double diff = std::fabs(static_cast<double>(simd[i]) - eigen[i]);
    bool ok;
    if (kind == Values::Integers) {
      ok = simd[i] == eigen[i];
    } else {
      const double s = scale[i] > 0 ? scale[i] : 1e-30;
      worst_relative = std::max(worst_relative, diff / s);
      ok = diff <= kTolerance * s;
    }
    if (!ok) {
      if (++failures <= 20)
        std::printf("FAIL %s (%s): output %zu: simd %.9g, eigen %.9g, |diff| %.3g, term scale %.3g\n", what.c_str(),
                    name(kind), i, simd[i], eigen[i], diff, scale[i]);
      return;
    }
  }
}

void test_matvec(int rows, int cols, bool bias, int offset, Values kind) {
  Rng rng{static_cast<uint32_t>(rows * 7919 + cols * 31 + offset)};
  Buffer W(static_cast<size_t>(rows) * cols, offset, kind, rng), x(cols, offset, kind, rng), b(rows, offset, kind, rng);
  std::vector<float> y_simd(rows, NAN), y_eigen(rows, NAN);
  const float* bp = bias ? b.data : nullptr;
  k::simd::matvec(W.data, bp, x.data, y_simd.data(), rows, cols);
  k::eigen::matvec(W.data, bp, x.data, y_eigen.data(), rows, cols);
  std::vector<double> scale(rows, 0.0);
  for (int r = 0; r < rows; ++r) {
    for (int j = 0; j < cols; ++j) scale[r] += std::fabs(static_cast<double>(W.data[static_cast<size_t>(r) * cols + j]) * x.data[j]);
    if (bp) scale[r] += std::fabs(bp[r]);
  }
  compare("matvec " + std::to_string(rows) + "x" + std::to_string(cols) + (bias ? " +b" : "") + " offset " + std::to_string(offset),
          kind, y_simd.data(), y_eigen.data(), scale, rows);
}

void test_linear_rows(int n, int rows, int cols, bool bias, int offset, Values kind) {
  Rng rng{static_cast<uint32_t>(n * 104729 + rows * 7919 + cols * 31 + offset)};
  Buffer X(static_cast<size_t>(n) * cols, offset, kind, rng), W(static_cast<size_t>(rows) * cols, offset, kind, rng),
      b(rows, offset, kind, rng);
  std::vector<float> y_simd(static_cast<size_t>(n) * rows, NAN), y_eigen(static_cast<size_t>(n) * rows, NAN);
  const float* bp = bias ? b.data : nullptr;
  k::simd::linear_rows(X.data, n, W.data, bp, y_simd.data(), rows, cols);
  k::eigen::linear_rows(X.data, n, W.data, bp, y_eigen.data(), rows, cols);
  std::vector<double> scale(static_cast<size_t>(n) * rows, 0.0);
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < rows; ++r) {
      double& s = scale[static_cast<size_t>(i) * rows + r];
      for (int j = 0; j < cols; ++j)
        s += std::fabs(static_cast<double>(X.data[static_cast<size_t>(i) * cols + j]) * W.data[static_cast<size_t>(r) * cols + j]);
      if (bp) s += std::fabs(bp[r]);
    }
  compare("linear_rows " + std::to_string(n) + "x" + std::to_string(cols) + " -> " + std::to_string(rows) +
              (bias ? " +b" : "") + " offset " + std::to_string(offset),
          kind, y_simd.data(), y_eigen.data(), scale, scale.size());
}

void test_dot(int n, int offset, Values kind) {
  Rng rng{static_cast<uint32_t>(n * 31 + offset + 17)};
  Buffer a(n, offset, kind, rng), b(n, offset + 1 < 4 ? offset + 1 : 0, kind, rng);
  const float s = k::simd::dot(a.data, b.data, n), e = k::eigen::dot(a.data, b.data, n);
  std::vector<double> scale(1, 0.0);
  for (int i = 0; i < n; ++i) scale[0] += std::fabs(static_cast<double>(a.data[i]) * b.data[i]);
  compare("dot " + std::to_string(n) + " offset " + std::to_string(offset), kind, &s, &e, scale, 1);
}

void test_axpy(int n, int offset, Values kind) {
  Rng rng{static_cast<uint32_t>(n * 131 + offset + 5)};
  Buffer x(n, offset, kind, rng), y(n, offset, kind, rng);
  const float a = rng.next(kind) * 0.75f;
  std::vector<float> y_simd(y.data, y.data + n), y_eigen(y.data, y.data + n);
  k::simd::axpy(a, x.data, y_simd.data(), n);
  k::eigen::axpy(a, x.data, y_eigen.data(), n);
  // Exact for both kinds: one multiply and one add per element, rounded the same way.
  compare("axpy " + std::to_string(n) + " offset " + std::to_string(offset), Values::Integers, y_simd.data(), y_eigen.data(),
          std::vector<double>(n, 0.0), n);
}

// Int8 weights in [-127, 127]; scales powers of two (integers) or small floats, one per row.
struct Int8Matrix {
  std::vector<int8_t> W;
  std::vector<float> scale;
  Int8Matrix(int rows, int cols, Values kind, Rng& rng) : W(static_cast<size_t>(rows) * cols), scale(rows) {
    for (int8_t& w : W) {
      rng.state = rng.state * 1664525u + 1013904223u;
      w = static_cast<int8_t>(static_cast<int>((rng.state >> 8) % 255u) - 127);
    }
    for (float& s : scale) {
      const float u = rng.next(Values::Floats);  // [-1, 1)
      s = kind == Values::Integers ? std::ldexp(1.0f, static_cast<int>((u + 1.0f) * 2.0f) - 3) : 0.01f * (u + 1.5f);
    }
  }
  // sum_j |scale W x_j| + |b| for output row r against input x.
  double term_scale(int r, int cols, const float* x, const float* b) const {
    double s = b ? std::fabs(b[r]) : 0.0;
    for (int j = 0; j < cols; ++j) s += std::fabs(static_cast<double>(scale[r]) * W[static_cast<size_t>(r) * cols + j] * x[j]);
    return s;
  }
};

void test_matvec_q8(int rows, int cols, bool bias, int offset, Values kind) {
  Rng rng{static_cast<uint32_t>(rows * 7727 + cols * 37 + offset)};
  const Int8Matrix m(rows, cols, kind, rng);
  Buffer x(cols, offset, kind, rng), b(rows, offset, kind, rng);
  std::vector<float> y_simd(rows, NAN), y_eigen(rows, NAN);
  const float* bp = bias ? b.data : nullptr;
  k::simd::matvec_q8(m.W.data(), m.scale.data(), bp, x.data, y_simd.data(), rows, cols);
  k::eigen::matvec_q8(m.W.data(), m.scale.data(), bp, x.data, y_eigen.data(), rows, cols);
  std::vector<double> scale(rows);
  for (int r = 0; r < rows; ++r) scale[r] = m.term_scale(r, cols, x.data, bp);
  compare("matvec_q8 " + std::to_string(rows) + "x" + std::to_string(cols) + (bias ? " +b" : "") + " offset " +
              std::to_string(offset),
          kind, y_simd.data(), y_eigen.data(), scale, rows);
}

void test_linear_rows_q8(int n, int rows, int cols, bool bias, int offset, Values kind) {
  Rng rng{static_cast<uint32_t>(n * 100003 + rows * 7727 + cols * 37 + offset)};
  const Int8Matrix m(rows, cols, kind, rng);
  Buffer X(static_cast<size_t>(n) * cols, offset, kind, rng), b(rows, offset, kind, rng);
  std::vector<float> y_simd(static_cast<size_t>(n) * rows, NAN), y_eigen(static_cast<size_t>(n) * rows, NAN);
  const float* bp = bias ? b.data : nullptr;
  k::simd::linear_rows_q8(X.data, n, m.W.data(), m.scale.data(), bp, y_simd.data(), rows, cols);
  k::eigen::linear_rows_q8(X.data, n, m.W.data(), m.scale.data(), bp, y_eigen.data(), rows, cols);
  std::vector<double> scale(static_cast<size_t>(n) * rows);
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < rows; ++r) scale[static_cast<size_t>(i) * rows + r] = m.term_scale(r, cols, X.data + static_cast<size_t>(i) * cols, bp);
  compare("linear_rows_q8 " + std::to_string(n) + "x" + std::to_string(cols) + " -> " + std::to_string(rows) +
              (bias ? " +b" : "") + " offset " + std::to_string(offset),
          kind, y_simd.data(), y_eigen.data(), scale, scale.size());
}

}  // namespace

int main() {
  const int small_rows[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 72};
  const int small_cols[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65};
  // The G2P model (d 128, d_ff 512, vocab 72), the base-shaped one (d 512, d_ff 2048), and two matrices
  // large enough for matvec's streaming path (>= 2^18 floats) with ragged rows and columns.
  const std::pair<int, int> model_shapes[] = {{384, 128}, {128, 128}, {512, 128},  {128, 512},  {72, 128},  {1536, 512},
                                              {512, 512}, {2048, 512}, {512, 2048}, {72, 512}, {517, 512}, {263, 1001}};
  for (Values kind : {Values::Integers, Values::Floats}) {
    for (int offset : {0, 1}) {
      for (int r : small_rows)
        for (int c : small_cols)
          for (bool bias : {false, true}) test_matvec(r, c, bias, offset, kind);
      for (const auto& [r, c] : model_shapes)
        for (bool bias : {false, true}) test_matvec(r, c, bias, offset, kind);
      for (int n : {1, 2, 3, 4, 5, 7, 8, 9, 13, 32})
        for (int r : {1, 3, 4, 5, 8, 9, 17})
          for (int c : {1, 3, 4, 7, 8, 9, 16, 17, 33})
            for (bool bias : {false, true}) test_linear_rows(n, r, c, bias, offset, kind);
      for (int n : {1, 5, 8, 13})
        for (const auto& [r, c] : model_shapes) test_linear_rows(n, r, c, true, offset, kind);
      for (int n = 0; n <= 70; ++n) test_dot(n, offset, kind);
      for (int n : {127, 128, 129, 511, 512, 2047, 2048}) test_dot(n, offset, kind);
      for (int n = 0; n <= 70; ++n) test_axpy(n, offset, kind);
      for (int n : {127, 128, 512, 2048}) test_axpy(n, offset, kind);
      for (int r : small_rows)
        for (int c : small_cols)
          for (bool bias : {false, true}) test_matvec_q8(r, c, bias, offset, kind);
      for (const auto& [r, c] : model_shapes)
        for (bool bias : {false, true}) test_matvec_q8(r, c, bias, offset, kind);
      for (int n : {1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 32})
        for (int r : {1, 3, 4, 5, 8, 9, 17})
          for (int c : {1, 3, 4, 7, 8, 9, 16, 17, 33})
            for (bool bias : {false, true}) test_linear_rows_q8(n, r, c, bias, offset, kind);
      for (int n : {1, 5, 8, 13, 20})
        for (const auto& [r, c] : model_shapes) test_linear_rows_q8(n, r, c, true, offset, kind);
    }
  }
  std::printf("kernels::simd vs kernels::eigen: %d cases, %d failed; worst float difference %.3g of the term scale "
              "(tolerance %.0e); integer cases must match exactly\n",
              cases, failures, worst_relative, kTolerance);
  return failures == 0 ? 0 : 1;
}

// WebAssembly SIMD (128-bit) kernels for the decoder step's hot loops. Eigen 3.4 has no WebAssembly
// packet backend, so under Emscripten its products run scalar (PLATFORM.md: ~2 GFLOP/s); these run
// 4 lanes wide with several independent accumulators. Compiled only with -msimd128; tests compare
// them with kernels::eigen (the reference) on the same inputs.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels.h"

namespace stepwise::kernels::simd {

namespace {

inline float horizontal_sum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

inline v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

// Four rows of W against x at once: x is loaded once per 4 columns and feeds four accumulators.
inline void four_rows(const float* w0, const float* w1, const float* w2, const float* w3, const float* x, int cols,
                      float* out) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
  int i = 0;
  for (; i + 4 <= cols; i += 4) {
    const v128_t xv = wasm_v128_load(x + i);
    a0 = madd(a0, wasm_v128_load(w0 + i), xv);
    a1 = madd(a1, wasm_v128_load(w1 + i), xv);
    a2 = madd(a2, wasm_v128_load(w2 + i), xv);
    a3 = madd(a3, wasm_v128_load(w3 + i), xv);
  }
  float s0 = horizontal_sum(a0), s1 = horizontal_sum(a1), s2 = horizontal_sum(a2), s3 = horizontal_sum(a3);
  for (; i < cols; ++i) {
    s0 += w0[i] * x[i];
    s1 += w1[i] * x[i];
    s2 += w2[i] * x[i];
    s3 += w3[i] * x[i];
  }
  out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

}  // namespace

float dot(const float* a, const float* b, int n) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = madd(a0, wasm_v128_load(a + i), wasm_v128_load(b + i));
    a1 = madd(a1, wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4));
    a2 = madd(a2, wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8));
    a3 = madd(a3, wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12));
  }
  for (; i + 4 <= n; i += 4) a0 = madd(a0, wasm_v128_load(a + i), wasm_v128_load(b + i));
  float sum = horizontal_sum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols) {
  const long stride = cols;
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* w = W + r * stride;
    four_rows(w, w + stride, w + 2 * stride, w + 3 * stride, x, cols, y + r);
  }
  for (; r < rows; ++r) y[r] = dot(W + r * stride, x, cols);
  if (b)
    for (r = 0; r < rows; ++r) y[r] += b[r];
}

void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols) {
  for (int i = 0; i < n; ++i) matvec(W, b, X + static_cast<long>(i) * cols, Y + static_cast<long>(i) * rows, rows, cols);
}

void axpy(float a, const float* x, float* y, int n) {
  const v128_t av = wasm_f32x4_splat(a);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, madd(wasm_v128_load(y + i), av, wasm_v128_load(x + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace stepwise::kernels::simd
#endif

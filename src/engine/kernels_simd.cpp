// WebAssembly SIMD (128-bit) kernels for the decoder step's hot loops. Eigen 3.4 has no WebAssembly
// packet backend, so under Emscripten its products run scalar or auto-vectorized at ~4 GFLOP/s; these
// run 4 lanes wide. Compiled only with -msimd128; tests/wasm/kernels_test.cpp holds them to
// kernels::eigen (the reference) on the same inputs.
//
// Everything is built from one register tile: NX input rows against NW weight rows, 4 columns per
// step, one f32x4 accumulator per pair. Each loaded vector feeds several products, which is what makes
// it faster than one dot product at a time (measured in V8 on this machine, G2P shapes: ~21 GFLOP/s
// for the 1 x 4 tile of a matrix-vector product, ~28 GFLOP/s for the 4 x 2 and 2 x 4 tiles of a
// teacher-forced projection; larger tiles spill registers; 1 x 8 for matrices that stream from memory). WebAssembly SIMD has no fused multiply-add
// (relaxed SIMD is not in this toolchain), so each product is a multiply then an add, as in Eigen's SSE2
// path.
//
// Int8 weights (the `_q8` kernels) use the same tiles, 8 columns per step: one 8-byte load sign-extends
// the weights to 16 bits (i16x8.load8x8_s), two extends and two conversions make them float32, then
// they are multiplied like float weights. A quarter of the bytes come from memory; the widening costs
// instructions, which the large matrices (bound by memory) can spare.
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

#include "kernels.h"

namespace stepwise::kernels::simd {

namespace {

inline v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

// The last `n` (1..3) floats of a row, zero-padded to a vector: the padded lanes add 0 x 0 to a sum.
inline v128_t load_partial(const float* p, int n) {
  return wasm_f32x4_make(p[0], n > 1 ? p[1] : 0.0f, n > 2 ? p[2] : 0.0f, 0.0f);
}

inline float horizontal_sum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

// [sum of a0's lanes, sum of a1's, sum of a2's, sum of a3's], by two rounds of pairwise adds.
inline v128_t horizontal_sums(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
  const v128_t s01 = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
  const v128_t s23 = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}

// acc[i][j] = lane-wise partial sums of x[i] . w[j] over `cols` columns (i < NX, j < NW).
template <int NX, int NW>
inline void tile(const float* const* x, const float* const* w, int cols, v128_t (&acc)[NX][NW]) {
  for (int i = 0; i < NX; ++i)
    for (int j = 0; j < NW; ++j) acc[i][j] = wasm_f32x4_splat(0.0f);
  int k = 0;
  for (; k + 4 <= cols; k += 4) {
    v128_t wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = wasm_v128_load(w[j] + k);
    for (int i = 0; i < NX; ++i) {
      const v128_t xv = wasm_v128_load(x[i] + k);
      for (int j = 0; j < NW; ++j) acc[i][j] = madd(acc[i][j], wv[j], xv);
    }
  }
  if (k < cols) {
    const int rest = cols - k;
    v128_t wv[NW];
    for (int j = 0; j < NW; ++j) wv[j] = load_partial(w[j] + k, rest);
    for (int i = 0; i < NX; ++i) {
      const v128_t xv = load_partial(x[i] + k, rest);
      for (int j = 0; j < NW; ++j) acc[i][j] = madd(acc[i][j], wv[j], xv);
    }
  }
}

// Matrices of at least this many floats (1 MiB) are taken to stream from memory rather than cache.
constexpr long kStreamingFloats = 1L << 18;

// Y rows [0, NX) = X rows [0, NX) W^T (+ b), for all `rows` weight rows, four at a time.
template <int NX>
void rows_block(const float* X, const float* W, const float* b, float* Y, int rows, int cols) {
  const long stride = cols;
  const float* x[NX];
  for (int i = 0; i < NX; ++i) x[i] = X + i * stride;
  int r = 0;
  // A matrix-vector product over a matrix too big to stay in cache is bound by memory bandwidth: there,
  // eight rows at a time keep more loads in flight (measured: 10.0 vs 9.1 GB/s over 88 MB of weights,
  // the base-shaped model's step). Cache-resident matrices run the 1 x 4 tile ~5 % faster.
  if constexpr (NX == 1) {
    const bool streams_from_memory = static_cast<long>(rows) * cols >= kStreamingFloats;
    for (; streams_from_memory && r + 8 <= rows; r += 8) {
      const float* w[8];
      for (int j = 0; j < 8; ++j) w[j] = W + (r + j) * stride;
      v128_t acc[1][8];
      tile<1, 8>(x, w, cols, acc);
      const v128_t bias_lo = b ? wasm_v128_load(b + r) : wasm_f32x4_splat(0.0f);
      const v128_t bias_hi = b ? wasm_v128_load(b + r + 4) : wasm_f32x4_splat(0.0f);
      wasm_v128_store(Y + r, wasm_f32x4_add(horizontal_sums(acc[0][0], acc[0][1], acc[0][2], acc[0][3]), bias_lo));
      wasm_v128_store(Y + r + 4, wasm_f32x4_add(horizontal_sums(acc[0][4], acc[0][5], acc[0][6], acc[0][7]), bias_hi));
    }
  }
  for (; r + 4 <= rows; r += 4) {
    const float* w[4] = {W + r * stride, W + (r + 1) * stride, W + (r + 2) * stride, W + (r + 3) * stride};
    v128_t sums[NX];
    if constexpr (NX == 4) {  // 4 x 4 would spill: two 4 x 2 tiles
      v128_t lo[4][2], hi[4][2];
      tile<4, 2>(x, w, cols, lo);
      tile<4, 2>(x, w + 2, cols, hi);
      for (int i = 0; i < 4; ++i) sums[i] = horizontal_sums(lo[i][0], lo[i][1], hi[i][0], hi[i][1]);
    } else {
      v128_t acc[NX][4];
      tile<NX, 4>(x, w, cols, acc);
      for (int i = 0; i < NX; ++i) sums[i] = horizontal_sums(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
    }
    const v128_t bias = b ? wasm_v128_load(b + r) : wasm_f32x4_splat(0.0f);
    for (int i = 0; i < NX; ++i) wasm_v128_store(Y + i * static_cast<long>(rows) + r, wasm_f32x4_add(sums[i], bias));
  }
  for (; r < rows; ++r) {
    const float* w[1] = {W + r * stride};
    v128_t acc[NX][1];
    tile<NX, 1>(x, w, cols, acc);
    for (int i = 0; i < NX; ++i) Y[i * static_cast<long>(rows) + r] = horizontal_sum(acc[i][0]) + (b ? b[r] : 0.0f);
  }
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
  if (i < n) a1 = madd(a1, load_partial(a + i, n - i), load_partial(b + i, n - i));
  return horizontal_sum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
}

void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols) {
  rows_block<1>(x, W, b, y, rows, cols);
}

// The teacher-forced pass's products: four input rows at a time share each weight load.
void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols) {
  const long in = cols, out = rows;
  int i = 0;
  for (; i + 4 <= n; i += 4) rows_block<4>(X + i * in, W, b, Y + i * out, rows, cols);
  if (i + 2 <= n) {
    rows_block<2>(X + i * in, W, b, Y + i * out, rows, cols);
    i += 2;
  }
  if (i < n) rows_block<1>(X + i * in, W, b, Y + i * out, rows, cols);
}

void axpy(float a, const float* x, float* y, int n) {
  const v128_t av = wasm_f32x4_splat(a);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, madd(wasm_v128_load(y + i), av, wasm_v128_load(x + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

// ---------------------------------------------------------------------------------------------------
// Int8 weights with a float32 scale per row: y[r] = scale[r] * sum_c W[r, c] x[c] + b[r].

namespace {

// The 8 int8 weights at p as two float32 vectors (columns 0-3 and 4-7).
// Not with extends and f32x4.convert_i32x4: LLVM 14 folds them into one int8 -> float conversion, which
// its WebAssembly backend then does one lane at a time (measured: 7x slower than the float32 kernel).
// Instead, bit tricks in three steps: the bytes, zero-extended to 16 bits, get their top bit flipped
// (u = v + 128, 0..255); each u becomes the low half of a 32-bit lane whose high half is 0x4B40, the
// bits of the float 1.5 * 2^23 + u (its last mantissa bit is worth 1); one subtraction leaves v, exactly.
inline void widen8(const int8_t* p, v128_t& lo, v128_t& hi) {
  const v128_t u = wasm_v128_xor(wasm_u16x8_load8x8(p), wasm_i16x8_splat(0x80));
  const v128_t high = wasm_i16x8_splat(0x4B40);
  const v128_t bias = wasm_f32x4_splat(12583040.0f);  // 1.5 * 2^23 + 128
  lo = wasm_f32x4_sub(wasm_i16x8_shuffle(u, high, 0, 8, 1, 9, 2, 10, 3, 11), bias);
  hi = wasm_f32x4_sub(wasm_i16x8_shuffle(u, high, 4, 12, 5, 13, 6, 14, 7, 15), bias);
}

// acc[i][j]: lane-wise partial sums of x[i] . w[j] over the columns in whole steps of 8; tail[i][j]:
// the sum over the last cols % 8 columns. Each weight vector is widened once and used for all NX inputs.
template <int NX, int NW>
inline void q8_tile(const float* const* x, const int8_t* const* w, int cols, v128_t (&acc)[NX][NW], float (&tail)[NX][NW]) {
  for (int i = 0; i < NX; ++i)
    for (int j = 0; j < NW; ++j) acc[i][j] = wasm_f32x4_splat(0.0f), tail[i][j] = 0.0f;
  int k = 0;
  // Each weight row is widened and used at once, and x is loaded where it is used: holding every
  // widened row or every input in registers would spill (V8 has 16 of them on x64).
  for (; k + 8 <= cols; k += 8) {
    for (int j = 0; j < NW; ++j) {
      v128_t lo, hi;
      widen8(w[j] + k, lo, hi);
      for (int i = 0; i < NX; ++i)
        acc[i][j] = madd(madd(acc[i][j], lo, wasm_v128_load(x[i] + k)), hi, wasm_v128_load(x[i] + k + 4));
    }
  }
  for (; k < cols; ++k)
    for (int i = 0; i < NX; ++i)
      for (int j = 0; j < NW; ++j) tail[i][j] += static_cast<float>(w[j][k]) * x[i][k];
}

// Rows [r, rows) of Y = X W^T (scaled, + b) for NX input rows, NW weight rows at a time while NW fit;
// returns the first row not done.
template <int NX, int NW>
int q8_rows(const float* X, const int8_t* W, const float* scale, const float* b, float* Y, int r, int rows, int cols) {
  const float* x[NX];
  for (int i = 0; i < NX; ++i) x[i] = X + static_cast<long>(i) * cols;
  for (; r + NW <= rows; r += NW) {
    const int8_t* w[NW];
    for (int j = 0; j < NW; ++j) w[j] = W + static_cast<long>(r + j) * cols;
    v128_t acc[NX][NW];
    float tail[NX][NW];
    q8_tile<NX, NW>(x, w, cols, acc, tail);
    for (int i = 0; i < NX; ++i)
      for (int j = 0; j < NW; ++j)
        Y[static_cast<long>(i) * rows + r + j] = scale[r + j] * (horizontal_sum(acc[i][j]) + tail[i][j]) + (b ? b[r + j] : 0.0f);
  }
  return r;
}

// NX input rows against every weight row: four weight rows per tile for one input, two for two or four
// inputs (more accumulators would spill), then the rows left one by one.
template <int NX>
void q8_block(const float* X, const int8_t* W, const float* scale, const float* b, float* Y, int rows, int cols) {
  constexpr int NW = NX == 1 ? 4 : 2;
  const int r = q8_rows<NX, NW>(X, W, scale, b, Y, 0, rows, cols);
  q8_rows<NX, 1>(X, W, scale, b, Y, r, rows, cols);
}

}  // namespace

void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols) {
  q8_block<1>(x, W, scale, b, y, rows, cols);
}

void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols) {
  const long in = cols, out = rows;
  int i = 0;
  for (; i + 4 <= n; i += 4) q8_block<4>(X + i * in, W, scale, b, Y + i * out, rows, cols);
  if (i + 2 <= n) {
    q8_block<2>(X + i * in, W, scale, b, Y + i * out, rows, cols);
    i += 2;
  }
  if (i < n) q8_block<1>(X + i * in, W, scale, b, Y + i * out, rows, cols);
}

}  // namespace stepwise::kernels::simd
#endif

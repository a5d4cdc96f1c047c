// Native x86 kernels for int8 weights: y[r] = scale[r] * sum_c W[r, c] x[c] + b[r], each int8 weight
// widened to float32 in registers, float32 accumulation. The step of a large model streams its weights
// from memory once per token; as int8 they are a quarter of the bytes of float32.
//
// Two versions of the same loop: SSE2, which every x86-64 CPU has (the build sets no -march), and AVX2 +
// FMA, compiled for that target with a function attribute and chosen at run time when the CPU has it.
// Both take four weight rows at a time, so each loaded piece of x feeds four products, with vector
// accumulators per row; the columns left over past the last full vector are summed in scalar code.
// For a few input rows at once (linear_rows_q8, n <= 16: the encoder, the cross-attention keys and values)
// each weight is widened once for a group of input rows (AVX2: 3, SSE2: 2) instead of once per row.
// tests/test_kernels.cpp holds both to kernels::eigen, the reference.
#include "kernels.h"

#if defined(STEPWISE_KERNELS_X86)
#include <immintrin.h>

namespace stepwise::kernels {

namespace {

// Matrix-vector products for up to this many input rows; above it the blocked GEMM of
// eigen::linear_rows_q8 (the same threshold as its own).
constexpr int kRowsForGemm = 16;

// y[r] for rows [r, r + NR) from their vector sums, the scalar sums of their last columns, scale and bias.
template <int NR>
inline void finish_rows(const float (&sums)[NR], const float (&tails)[NR], const float* scale, const float* b, float* y,
                        int r) {
  for (int j = 0; j < NR; ++j) y[r + j] = scale[r + j] * (sums[j] + tails[j]) + (b ? b[r + j] : 0.0f);
}

// sum_c W[row c] x[c] for columns [from, cols): the part no full vector covers.
inline float scalar_tail(const int8_t* w, const float* x, int from, int cols) {
  float s = 0.0f;
  for (int c = from; c < cols; ++c) s += static_cast<float>(w[c]) * x[c];
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// SSE2: 16 columns per step. SSE2 has no sign-extending widen (pmovsx is SSE4.1) and converting 32-bit
// integers costs a conversion each; cheaper, by bit tricks: the bytes get their top bit flipped
// (u = v + 128, 0..255), are zero-extended to 16 bits and become the low half of 32-bit lanes whose high
// half is 0x4B40, the bits of the float 1.5 * 2^23 + u (its last mantissa bit is worth 1); one
// subtraction leaves v, exactly (11 instructions per 16 weights where unpack, shift and cvtdq2ps take 16).
namespace sse2 {

namespace {

// The 16 int8 weights at p as four float32 vectors (columns 0-3, 4-7, 8-11, 12-15).
inline void widen16(const int8_t* p, __m128 (&w)[4]) {
  const __m128i u = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), _mm_set1_epi8(-128));
  const __m128i zero = _mm_setzero_si128(), high = _mm_set1_epi16(0x4B40);
  const __m128 bias = _mm_set1_ps(12583040.0f);  // 1.5 * 2^23 + 128
  const __m128i lo = _mm_unpacklo_epi8(u, zero), hi = _mm_unpackhi_epi8(u, zero);
  w[0] = _mm_sub_ps(_mm_castsi128_ps(_mm_unpacklo_epi16(lo, high)), bias);
  w[1] = _mm_sub_ps(_mm_castsi128_ps(_mm_unpackhi_epi16(lo, high)), bias);
  w[2] = _mm_sub_ps(_mm_castsi128_ps(_mm_unpacklo_epi16(hi, high)), bias);
  w[3] = _mm_sub_ps(_mm_castsi128_ps(_mm_unpackhi_epi16(hi, high)), bias);
}

inline float horizontal_sum(__m128 v) {
  const __m128 pairs = _mm_add_ps(v, _mm_movehl_ps(v, v));                       // [0+2, 1+3, ...]
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 0x55)));  // (0+2) + (1+3)
}

// Rows [r, r + NR) of y (NR = 4 or 1).
template <int NR>
void rows(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int r, int cols) {
  const int8_t* w[NR];
  for (int j = 0; j < NR; ++j) w[j] = W + static_cast<long>(r + j) * cols;
  __m128 acc[NR];
  for (int j = 0; j < NR; ++j) acc[j] = _mm_setzero_ps();
  int c = 0;
  for (; c + 16 <= cols; c += 16) {
    const __m128 x0 = _mm_loadu_ps(x + c), x1 = _mm_loadu_ps(x + c + 4), x2 = _mm_loadu_ps(x + c + 8),
                 x3 = _mm_loadu_ps(x + c + 12);
    for (int j = 0; j < NR; ++j) {
      __m128 wv[4];
      widen16(w[j] + c, wv);
      const __m128 s = _mm_add_ps(_mm_add_ps(_mm_mul_ps(wv[0], x0), _mm_mul_ps(wv[1], x1)),
                                  _mm_add_ps(_mm_mul_ps(wv[2], x2), _mm_mul_ps(wv[3], x3)));
      acc[j] = _mm_add_ps(acc[j], s);
    }
  }
  float sums[NR], tails[NR];
  for (int j = 0; j < NR; ++j) sums[j] = horizontal_sum(acc[j]), tails[j] = scalar_tail(w[j], x, c, cols);
  finish_rows(sums, tails, scale, b, y, r);
}

// Rows [r, r + 4) of Y for the 2 input rows at x[0], x[1]: each 16 weights are widened once and feed both
// products (8 accumulators, 4 widened vectors: 14 of the 16 registers with the two products in flight).
void four_rows_of_two(const int8_t* W, const float* scale, const float* b, const float* const* x, float* const* y, int r,
                      int cols) {
  const int8_t* w[4];
  for (int j = 0; j < 4; ++j) w[j] = W + static_cast<long>(r + j) * cols;
  __m128 acc[2][4];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm_setzero_ps();
  int c = 0;
  for (; c + 16 <= cols; c += 16)
    for (int j = 0; j < 4; ++j) {
      __m128 wv[4];
      widen16(w[j] + c, wv);
      for (int i = 0; i < 2; ++i) {
        const float* xi = x[i] + c;
        const __m128 s = _mm_add_ps(_mm_add_ps(_mm_mul_ps(wv[0], _mm_loadu_ps(xi)), _mm_mul_ps(wv[1], _mm_loadu_ps(xi + 4))),
                                    _mm_add_ps(_mm_mul_ps(wv[2], _mm_loadu_ps(xi + 8)), _mm_mul_ps(wv[3], _mm_loadu_ps(xi + 12))));
        acc[i][j] = _mm_add_ps(acc[i][j], s);
      }
    }
  for (int i = 0; i < 2; ++i) {
    float sums[4], tails[4];
    for (int j = 0; j < 4; ++j) sums[j] = horizontal_sum(acc[i][j]), tails[j] = scalar_tail(w[j], x[i], c, cols);
    finish_rows(sums, tails, scale, b, y[i], r);
  }
}

}  // namespace

void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows_, int cols) {
  int r = 0;
  for (; r + 4 <= rows_; r += 4) rows<4>(W, scale, b, x, y, r, cols);
  for (; r < rows_; ++r) rows<1>(W, scale, b, x, y, r, cols);
}

void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows_,
                    int cols) {
  if (n > kRowsForGemm) return eigen::linear_rows_q8(X, n, W, scale, b, Y, rows_, cols);
  // Input rows in pairs, each 16 weights widened once per pair; an odd last row as a matrix-vector product.
  const float* x[kRowsForGemm];
  float* y[kRowsForGemm];
  for (int i = 0; i < n; ++i) x[i] = X + static_cast<long>(i) * cols, y[i] = Y + static_cast<long>(i) * rows_;
  int r = 0;
  for (; r + 4 <= rows_; r += 4)
    for (int i = 0; i + 2 <= n; i += 2) four_rows_of_two(W, scale, b, x + i, y + i, r, cols);
  for (; r < rows_; ++r)
    for (int i = 0; i + 2 <= n; i += 2) rows<1>(W, scale, b, x[i], y[i], r, cols), rows<1>(W, scale, b, x[i + 1], y[i + 1], r, cols);
  if (n % 2) matvec_q8(W, scale, b, x[n - 1], y[n - 1], rows_, cols);
}

}  // namespace sse2

// ---------------------------------------------------------------------------------------------------
// AVX2 + FMA: 16 columns per step as two 8-wide halves, each widened by one vpmovsxbd from memory, with
// two accumulators per row (the FMA's latency needs about eight independent sums in flight).
#define STEPWISE_AVX2 __attribute__((target("avx2,fma")))
namespace avx2 {

namespace {

// The 8 int8 weights at p as one float32 vector.
STEPWISE_AVX2 inline __m256 widen8(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

STEPWISE_AVX2 inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55)));
}

// [sum of a0's lanes, sum of a1's, sum of a2's, sum of a3's].
STEPWISE_AVX2 inline __m128 horizontal_sums(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// acc0[j] + acc1[j]: lane-wise partial sums of row j . x over the columns in whole steps of 8 (j < NR);
// returns the first column not covered.
template <int NR>
STEPWISE_AVX2 inline int row_sums(const int8_t* const* w, const float* x, int cols, __m256 (&acc)[NR]) {
  __m256 acc1[NR];
  for (int j = 0; j < NR; ++j) acc[j] = acc1[j] = _mm256_setzero_ps();
  int c = 0;
  for (; c + 16 <= cols; c += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + c), x1 = _mm256_loadu_ps(x + c + 8);
    for (int j = 0; j < NR; ++j) {
      acc[j] = _mm256_fmadd_ps(widen8(w[j] + c), x0, acc[j]);
      acc1[j] = _mm256_fmadd_ps(widen8(w[j] + c + 8), x1, acc1[j]);
    }
  }
  if (c + 8 <= cols) {
    const __m256 x0 = _mm256_loadu_ps(x + c);
    for (int j = 0; j < NR; ++j) acc[j] = _mm256_fmadd_ps(widen8(w[j] + c), x0, acc[j]);
    c += 8;
  }
  for (int j = 0; j < NR; ++j) acc[j] = _mm256_add_ps(acc[j], acc1[j]);
  return c;
}

// Rows [r, r + 4): their four sums reduced together and finished as one vector, y = scale * sum + b.
STEPWISE_AVX2 void four_rows(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int r, int cols) {
  const int8_t* w[4];
  for (int j = 0; j < 4; ++j) w[j] = W + static_cast<long>(r + j) * cols;
  __m256 acc[4];
  const int c = row_sums<4>(w, x, cols, acc);
  __m128 sums = horizontal_sums(acc[0], acc[1], acc[2], acc[3]);
  if (c < cols)
    sums = _mm_add_ps(sums, _mm_setr_ps(scalar_tail(w[0], x, c, cols), scalar_tail(w[1], x, c, cols),
                                        scalar_tail(w[2], x, c, cols), scalar_tail(w[3], x, c, cols)));
  __m128 out = _mm_mul_ps(_mm_loadu_ps(scale + r), sums);
  if (b) out = _mm_add_ps(out, _mm_loadu_ps(b + r));
  _mm_storeu_ps(y + r, out);
}

STEPWISE_AVX2 void one_row(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int r, int cols) {
  const int8_t* w[1] = {W + static_cast<long>(r) * cols};
  __m256 acc[1];
  const int c = row_sums<1>(w, x, cols, acc);
  y[r] = scale[r] * (horizontal_sum(acc[0]) + scalar_tail(w[0], x, c, cols)) + (b ? b[r] : 0.0f);
}

// Rows [r, r + 4) of Y for the NI input rows at x[0..NI): each 8 weights are widened once and feed NI
// products (4 x NI accumulators; NI <= 3 keeps them and the 4 widened vectors in the 16 registers).
template <int NI>
STEPWISE_AVX2 inline void four_rows_of_many(const int8_t* W, const float* scale, const float* b, const float* const* x,
                                            float* const* y, int r, int cols) {
  const int8_t* w[4];
  for (int j = 0; j < 4; ++j) w[j] = W + static_cast<long>(r + j) * cols;
  __m256 acc[NI][4];
  for (int i = 0; i < NI; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_setzero_ps();
  int c = 0;
  for (; c + 8 <= cols; c += 8) {
    __m256 wv[4];
    for (int j = 0; j < 4; ++j) wv[j] = widen8(w[j] + c);
    for (int i = 0; i < NI; ++i) {
      const __m256 xv = _mm256_loadu_ps(x[i] + c);
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm256_fmadd_ps(wv[j], xv, acc[i][j]);
    }
  }
  const __m128 s = _mm_loadu_ps(scale + r), bias = b ? _mm_loadu_ps(b + r) : _mm_setzero_ps();
  for (int i = 0; i < NI; ++i) {
    __m128 sums = horizontal_sums(acc[i][0], acc[i][1], acc[i][2], acc[i][3]);
    if (c < cols)
      sums = _mm_add_ps(sums, _mm_setr_ps(scalar_tail(w[0], x[i], c, cols), scalar_tail(w[1], x[i], c, cols),
                                          scalar_tail(w[2], x[i], c, cols), scalar_tail(w[3], x[i], c, cols)));
    _mm_storeu_ps(y[i] + r, _mm_add_ps(_mm_mul_ps(s, sums), bias));
  }
}

}  // namespace

bool supported() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

STEPWISE_AVX2 void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows_,
                             int cols) {
  int r = 0;
  for (; r + 4 <= rows_; r += 4) four_rows(W, scale, b, x, y, r, cols);
  for (; r < rows_; ++r) one_row(W, scale, b, x, y, r, cols);
}

STEPWISE_AVX2 void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y,
                                  int rows_, int cols) {
  if (n > kRowsForGemm) return eigen::linear_rows_q8(X, n, W, scale, b, Y, rows_, cols);
  if (n == 1) return matvec_q8(W, scale, b, X, Y, rows_, cols);
  const float* x[kRowsForGemm];
  float* y[kRowsForGemm];
  for (int i = 0; i < n; ++i) x[i] = X + static_cast<long>(i) * cols, y[i] = Y + static_cast<long>(i) * rows_;
  // Input rows in groups of 3 (measured faster than 2 or 4 on the G2P shapes), the last ones in 2s
  // rather than leaving a group of 1: 4 = 2 + 2, 7 = 3 + 2 + 2 (n >= 2 here, so no group of 1 is left).
  int r = 0;
  for (; r + 4 <= rows_; r += 4) {
    int i = 0;
    for (; n - i == 3 || n - i > 4; i += 3) four_rows_of_many<3>(W, scale, b, x + i, y + i, r, cols);
    for (; n - i >= 2; i += 2) four_rows_of_many<2>(W, scale, b, x + i, y + i, r, cols);
  }
  for (; r < rows_; ++r)
    for (int i = 0; i < n; ++i) one_row(W, scale, b, x[i], y[i], r, cols);
}

}  // namespace avx2
#undef STEPWISE_AVX2

// ---------------------------------------------------------------------------------------------------
namespace x86 {

void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols) {
  static const auto kernel = avx2::supported() ? avx2::matvec_q8 : sse2::matvec_q8;
  kernel(W, scale, b, x, y, rows, cols);
}

void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols) {
  static const auto kernel = avx2::supported() ? avx2::linear_rows_q8 : sse2::linear_rows_q8;
  kernel(X, n, W, scale, b, Y, rows, cols);
}

}  // namespace x86

}  // namespace stepwise::kernels
#endif

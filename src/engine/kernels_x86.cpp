// Native x86 kernels for int8 weights: y[r] = scale[r] * sum_c W[r, c] x[c] + b[r], each int8 weight
// widened to float32 in registers, float32 accumulation. The step of a large model streams its weights
// from memory once per token; as int8 they are a quarter of the bytes of float32.
//
// Three versions of the same loop: SSE2, which every x86-64 CPU has (the build sets no -march), AVX2 + FMA
// and AVX-512, each compiled for its instruction set with a function attribute; the best one the CPU has
// is chosen at run time (x86:: below; STEPWISE_MAX_ISA caps it).
// All take several weight rows at a time (4; AVX-512: 8), so each loaded piece of x feeds several
// products, with vector accumulators per row; SSE2 and AVX2 sum the columns left over past the last full
// vector in scalar code, AVX-512 with masked loads.
// For a few input rows at once (linear_rows_q8, n <= 16: the encoder, the cross-attention keys and values)
// each weight is widened once for a group of input rows (SSE2: 2, AVX2: 3, AVX-512: up to 6) instead of
// once per row. tests/test_kernels.cpp holds every version to kernels::eigen, the reference.
#include "kernels.h"

#if defined(STEPWISE_KERNELS_X86)
#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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

// Rows [r, r + NR) of y (NR = 4 or 1): two accumulators per row (the FMA's latency needs about eight
// independent sums in flight), 16 columns a step; the four rows' sums reduced together, y = scale * sum + b.
// kTail: the columns past the last 16 (8 more as a vector, the rest in scalar code); a separate instance,
// because with those branches in the function GCC keeps the accumulators in memory (a quarter slower),
// and the models' widths are multiples of 16.
template <int NR, bool kTail>
STEPWISE_AVX2 void rows(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int r,
                        int cols) {
  const int8_t* w = W + static_cast<long>(r) * cols;
  __m256 acc[NR], acc1[NR];
  for (int j = 0; j < NR; ++j) acc[j] = acc1[j] = _mm256_setzero_ps();
  int c = 0;
  for (; c + 16 <= cols; c += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + c), x1 = _mm256_loadu_ps(x + c + 8);
    for (int j = 0; j < NR; ++j) {
      acc[j] = _mm256_fmadd_ps(widen8(w + static_cast<long>(j) * cols + c), x0, acc[j]);
      acc1[j] = _mm256_fmadd_ps(widen8(w + static_cast<long>(j) * cols + c + 8), x1, acc1[j]);
    }
  }
  float tails[NR] = {};
  if constexpr (kTail) {
    if (c + 8 <= cols) {
      const __m256 x0 = _mm256_loadu_ps(x + c);
      for (int j = 0; j < NR; ++j) acc[j] = _mm256_fmadd_ps(widen8(w + static_cast<long>(j) * cols + c), x0, acc[j]);
      c += 8;
    }
    for (int j = 0; j < NR; ++j) tails[j] = scalar_tail(w + static_cast<long>(j) * cols, x, c, cols);
  }
  for (int j = 0; j < NR; ++j) acc[j] = _mm256_add_ps(acc[j], acc1[j]);
  if constexpr (NR == 4) {
    __m128 out = _mm_mul_ps(_mm_loadu_ps(scale + r),
                            _mm_add_ps(horizontal_sums(acc[0], acc[1], acc[2], acc[3]), _mm_loadu_ps(tails)));
    if (b) out = _mm_add_ps(out, _mm_loadu_ps(b + r));
    _mm_storeu_ps(y + r, out);
  } else {
    static_assert(NR == 1, "4 or 1 rows");
    y[r] = scale[r] * (horizontal_sum(acc[0]) + tails[0]) + (b ? b[r] : 0.0f);
  }
}

template <bool kTail>
STEPWISE_AVX2 void matvec_rows(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows_,
                               int cols) {
  int r = 0;
  for (; r + 4 <= rows_; r += 4) rows<4, kTail>(W, scale, b, x, y, r, cols);
  for (; r < rows_; ++r) rows<1, kTail>(W, scale, b, x, y, r, cols);
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
  if (cols % 16)
    matvec_rows<true>(W, scale, b, x, y, rows_, cols);
  else
    matvec_rows<false>(W, scale, b, x, y, rows_, cols);
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
    for (int i = 0; i < n; ++i) rows<1, true>(W, scale, b, x[i], y[i], r, cols);
}

}  // namespace avx2
#undef STEPWISE_AVX2

// ---------------------------------------------------------------------------------------------------
// AVX-512 (F, BW, VL, DQ) + FMA: 16 lanes and 32 registers. Matrix-vector products take eight weight rows
// at a time (eight FMA chains in flight, one accumulator each) and reduce the eight sums together; the
// columns past the last full vector are read with masked loads (lanes beyond the row read as zero and
// cannot fault), so there is no scalar tail. linear_rows_q8 keeps more input rows per widened weight
// (up to 6: 24 accumulators, 4 widened vectors and a loaded x in the 32 registers).
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*() (a self-initialised variable), which its
// -Wuninitialized reports at every use (GCC bug 105593, fixed in GCC 13): silenced for this section only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define STEPWISE_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
namespace avx512 {

namespace {

// Input rows per widened weight in linear_rows_q8 (the n rows are split into near-equal groups of at most this).
constexpr int kMaxGroup = 6;

// The 16 int8 weights at p as one float32 vector; widen_first: only the lanes in `lanes`, the others 0.
STEPWISE_AVX512 inline __m512 widen16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
STEPWISE_AVX512 inline __m512 widen_first(const int8_t* p, __mmask16 lanes) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(lanes, p)));
}
// The first `count` (< 16) lanes.
STEPWISE_AVX512 inline __mmask16 first_lanes(int count) { return static_cast<__mmask16>((1u << count) - 1u); }

// v's two 256-bit halves added.
STEPWISE_AVX512 inline __m256 halves(__m512 v) {
  return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
}
// [sum of a0's lanes, sum of a1's, sum of a2's, sum of a3's].
STEPWISE_AVX512 inline __m128 horizontal_sums(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(halves(a0), halves(a1)), _mm256_hadd_ps(halves(a2), halves(a3)));
  return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// [sum of a[0]'s lanes, ..., sum of a[7]'s]: a tree of shuffles and adds (24 instructions for 8 rows).
STEPWISE_AVX512 inline __m256 horizontal_sums8(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 a4, __m512 a5,
                                               __m512 a6, __m512 a7) {
  const __m512 a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
  // Rows 2k and 2k + 1 folded to 8 lanes each: [row 2k: 128-bit blocks 0+2, 1+3 | row 2k + 1: the same].
  __m512 p[4];
  for (int k = 0; k < 4; ++k)
    p[k] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], 0x44),
                         _mm512_shuffle_f32x4(a[2 * k], a[2 * k + 1], 0xEE));
  // Folded to 4 lanes: q0 = [row 0 | row 1 | row 2 | row 3], one 128-bit block each; q1 = rows 4-7.
  const __m512 q0 = _mm512_add_ps(_mm512_shuffle_f32x4(p[0], p[1], 0x88), _mm512_shuffle_f32x4(p[0], p[1], 0xDD));
  const __m512 q1 = _mm512_add_ps(_mm512_shuffle_f32x4(p[2], p[3], 0x88), _mm512_shuffle_f32x4(p[2], p[3], 0xDD));
  // In block k: lane 0 becomes row k's sum, lane 1 row 4 + k's; then those eight lanes in row order.
  const __m512 v = _mm512_add_ps(_mm512_unpacklo_ps(q0, q1), _mm512_unpackhi_ps(q0, q1));
  const __m512 t = _mm512_add_ps(v, _mm512_shuffle_ps(v, v, 0x4E));
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_castps512_ps256(_mm512_permutexvar_ps(order, t));
}

// Rows [r, r + NR) of y (NR = 8, 4 or 1): one accumulator per row (8 rows keep eight FMA chains in flight),
// 16 columns a step, then the rows' sums reduced together. kTail: the last cols % 16 columns with masked
// loads; a separate instance, because with that branch in the function GCC keeps the accumulators in
// memory (a quarter slower), and the models' widths are multiples of 16.
template <int NR, bool kTail>
STEPWISE_AVX512 void rows(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int r,
                          int cols) {
  const int8_t* w = W + static_cast<long>(r) * cols;
  __m512 acc[NR];
  for (int j = 0; j < NR; ++j) acc[j] = _mm512_setzero_ps();
  int c = 0;
  for (; c + 16 <= cols; c += 16) {
    const __m512 xv = _mm512_loadu_ps(x + c);
    for (int j = 0; j < NR; ++j) acc[j] = _mm512_fmadd_ps(widen16(w + static_cast<long>(j) * cols + c), xv, acc[j]);
  }
  if constexpr (kTail) {
    const __mmask16 lanes = first_lanes(cols - c);
    const __m512 xv = _mm512_maskz_loadu_ps(lanes, x + c);
    for (int j = 0; j < NR; ++j)
      acc[j] = _mm512_fmadd_ps(widen_first(w + static_cast<long>(j) * cols + c, lanes), xv, acc[j]);
  }
  if constexpr (NR == 8) {
    __m256 out = _mm256_mul_ps(_mm256_loadu_ps(scale + r),
                               horizontal_sums8(acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]));
    if (b) out = _mm256_add_ps(out, _mm256_loadu_ps(b + r));
    _mm256_storeu_ps(y + r, out);
  } else if constexpr (NR == 4) {
    __m128 out = _mm_mul_ps(_mm_loadu_ps(scale + r), horizontal_sums(acc[0], acc[1], acc[2], acc[3]));
    if (b) out = _mm_add_ps(out, _mm_loadu_ps(b + r));
    _mm_storeu_ps(y + r, out);
  } else {
    static_assert(NR == 1, "8, 4 or 1 rows");
    y[r] = scale[r] * _mm512_reduce_add_ps(acc[0]) + (b ? b[r] : 0.0f);
  }
}

// Rows [r, r + 4) of Y for the NI input rows at x[0..NI): each 16 weights are widened once and feed NI
// products.
template <int NI>
STEPWISE_AVX512 void four_rows_of_many(const int8_t* W, const float* scale, const float* b, const float* const* x,
                                       float* const* y, int r, int cols) {
  const int8_t* w[4];
  for (int j = 0; j < 4; ++j) w[j] = W + static_cast<long>(r + j) * cols;
  __m512 acc[NI][4];
  for (int i = 0; i < NI; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_setzero_ps();
  int c = 0;
  for (; c + 16 <= cols; c += 16) {
    __m512 wv[4];
    for (int j = 0; j < 4; ++j) wv[j] = widen16(w[j] + c);
    for (int i = 0; i < NI; ++i) {
      const __m512 xv = _mm512_loadu_ps(x[i] + c);
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fmadd_ps(wv[j], xv, acc[i][j]);
    }
  }
  if (c < cols) {
    const __mmask16 lanes = first_lanes(cols - c);
    __m512 wv[4];
    for (int j = 0; j < 4; ++j) wv[j] = widen_first(w[j] + c, lanes);
    for (int i = 0; i < NI; ++i) {
      const __m512 xv = _mm512_maskz_loadu_ps(lanes, x[i] + c);
      for (int j = 0; j < 4; ++j) acc[i][j] = _mm512_fmadd_ps(wv[j], xv, acc[i][j]);
    }
  }
  // Two input rows' sums reduced together (the tree of eight is cheaper per sum than that of four).
  const __m128 s = _mm_loadu_ps(scale + r), bias = b ? _mm_loadu_ps(b + r) : _mm_setzero_ps();
  const __m256 s2 = _mm256_set_m128(s, s), bias2 = _mm256_set_m128(bias, bias);
  int i = 0;
  for (; i + 2 <= NI; i += 2) {
    const __m256 sums = horizontal_sums8(acc[i][0], acc[i][1], acc[i][2], acc[i][3], acc[i + 1][0], acc[i + 1][1],
                                         acc[i + 1][2], acc[i + 1][3]);
    const __m256 out = _mm256_add_ps(_mm256_mul_ps(s2, sums), bias2);
    _mm_storeu_ps(y[i] + r, _mm256_castps256_ps128(out));
    _mm_storeu_ps(y[i + 1] + r, _mm256_extractf128_ps(out, 1));
  }
  if (i < NI)
    _mm_storeu_ps(y[i] + r,
                  _mm_add_ps(_mm_mul_ps(s, horizontal_sums(acc[i][0], acc[i][1], acc[i][2], acc[i][3])), bias));
}

STEPWISE_AVX512 void four_rows_of_group(int count, const int8_t* W, const float* scale, const float* b,
                                        const float* const* x, float* const* y, int r, int cols) {
  static_assert(kMaxGroup <= 6, "one case per group size");
  switch (count) {
    case 1:
      return cols % 16 ? rows<4, true>(W, scale, b, x[0], y[0], r, cols)
                       : rows<4, false>(W, scale, b, x[0], y[0], r, cols);
    case 2:
      return four_rows_of_many<2>(W, scale, b, x, y, r, cols);
    case 3:
      return four_rows_of_many<3>(W, scale, b, x, y, r, cols);
    case 4:
      return four_rows_of_many<4>(W, scale, b, x, y, r, cols);
    case 5:
      return four_rows_of_many<5>(W, scale, b, x, y, r, cols);
    default:
      return four_rows_of_many<6>(W, scale, b, x, y, r, cols);
  }
}

template <bool kTail>
STEPWISE_AVX512 void matvec_rows(const int8_t* W, const float* scale, const float* b, const float* x, float* y,
                                 int rows_, int cols) {
  int r = 0;
  for (; r + 8 <= rows_; r += 8) rows<8, kTail>(W, scale, b, x, y, r, cols);
  for (; r + 4 <= rows_; r += 4) rows<4, kTail>(W, scale, b, x, y, r, cols);
  for (; r < rows_; ++r) rows<1, kTail>(W, scale, b, x, y, r, cols);
}

}  // namespace

bool supported() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("fma");
  return yes;
}

STEPWISE_AVX512 void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows_,
                               int cols) {
  if (cols % 16)
    matvec_rows<true>(W, scale, b, x, y, rows_, cols);
  else
    matvec_rows<false>(W, scale, b, x, y, rows_, cols);
}

STEPWISE_AVX512 void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b,
                                    float* Y, int rows_, int cols) {
  if (n > kRowsForGemm) return eigen::linear_rows_q8(X, n, W, scale, b, Y, rows_, cols);
  if (n == 1) return matvec_q8(W, scale, b, X, Y, rows_, cols);
  const float* x[kRowsForGemm];
  float* y[kRowsForGemm];
  for (int i = 0; i < n; ++i) x[i] = X + static_cast<long>(i) * cols, y[i] = Y + static_cast<long>(i) * rows_;
  // The n input rows in near-equal groups of at most kMaxGroup (8 = 4 + 4, 7 = 4 + 3, 16 = 6 + 5 + 5).
  const int groups = (n + kMaxGroup - 1) / kMaxGroup;
  int r = 0;
  for (; r + 4 <= rows_; r += 4)
    for (int g = 0, i = 0; g < groups; ++g) {
      const int count = (n - i) / (groups - g);
      four_rows_of_group(count, W, scale, b, x + i, y + i, r, cols);
      i += count;
    }
  for (; r < rows_; ++r)
    for (int i = 0; i < n; ++i) rows<1, true>(W, scale, b, x[i], y[i], r, cols);
}

}  // namespace avx512
#undef STEPWISE_AVX512
#pragma GCC diagnostic pop

// ---------------------------------------------------------------------------------------------------
namespace x86 {

namespace {

enum class Tier { sse2, avx2, avx512 };
const char* const kTierNames[] = {"sse2", "avx2", "avx512"};

// The best tier this CPU runs, capped by the environment variable STEPWISE_MAX_ISA (sse2, avx2 or avx512:
// to compare tiers, or to keep a CPU that slows its clock under AVX-512 on AVX2). Decided once.
Tier tier() {
  static const Tier chosen = [] {
    const Tier best = avx512::supported() ? Tier::avx512 : avx2::supported() ? Tier::avx2 : Tier::sse2;
    const char* cap = std::getenv("STEPWISE_MAX_ISA");
    if (!cap || !*cap) return best;
    for (int t = 0; t < 3; ++t)
      if (!std::strcmp(cap, kTierNames[t])) return std::min(best, static_cast<Tier>(t));
    std::fprintf(stderr, "stepwise: STEPWISE_MAX_ISA=%s is not one of sse2, avx2, avx512; ignored (using %s)\n", cap,
                 kTierNames[static_cast<int>(best)]);
    return best;
  }();
  return chosen;
}

}  // namespace

void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols) {
  static const auto kernel = tier() == Tier::avx512 ? avx512::matvec_q8
                             : tier() == Tier::avx2 ? avx2::matvec_q8
                                                    : sse2::matvec_q8;
  kernel(W, scale, b, x, y, rows, cols);
}

void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols) {
  static const auto kernel = tier() == Tier::avx512 ? avx512::linear_rows_q8
                             : tier() == Tier::avx2 ? avx2::linear_rows_q8
                                                    : sse2::linear_rows_q8;
  kernel(X, n, W, scale, b, Y, rows, cols);
}

const char* name() {
  static const char* const names[] = {"eigen + q8-sse2", "eigen + q8-avx2", "eigen + q8-avx512"};
  return names[static_cast<int>(tier())];
}

}  // namespace x86

}  // namespace stepwise::kernels
#endif

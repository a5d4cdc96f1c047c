// The hot loops of a decoder step, behind one small interface: matrix-vector products (projections,
// feed-forward, output layer) and the dot products / weighted sums of attention.
//
// `eigen::` is the reference: Eigen maps over the row-major weights. Natively it is the one used for
// float32 weights (Eigen vectorizes with SSE/AVX). Eigen 3.4 has no WebAssembly SIMD backend, so
// WebAssembly builds compiled with -msimd128 use the hand-written `simd::` kernels instead
// (kernels_simd.cpp); tests hold them to the Eigen reference.
//
// Int8 weights (Q8 model files) stay int8 in memory, with one float32 scale per row: a step then reads a
// quarter of the bytes, and the step of a large model is bound by exactly those bytes. (In WebAssembly
// the small ones are dequantized to float32 at load instead: kDequantizeUpTo below says why.) The `_q8` kernels
// widen each weight to float32 as they go and accumulate in float32:
//   y[r] = scale[r] * sum_c W[r, c] x[c] + b[r]
// Natively they are SSE2 (`sse2::`, every x86-64), AVX2 + FMA (`avx2::`) or AVX-512 (`avx512::`), the best
// the CPU has, chosen at run time (kernels_x86.cpp); in WebAssembly `simd::`.
#pragma once

#include <cstdint>

namespace stepwise::kernels {

// A weight matrix [rows, cols], row-major, as a model holds it: float32, or int8 with one float32 scale
// per row (W[r][c] = q8[r * cols + c] * scale[r]). Exactly one of f32 and q8 is set.
struct Matrix {
  const float* f32 = nullptr;
  const int8_t* q8 = nullptr;
  const float* scale = nullptr;  // [rows], with q8

  // Rows first.. of a matrix with `cols` columns (the query, key and value blocks of an in-projection).
  Matrix rows_from(int first, int cols) const {
    const long at = static_cast<long>(first) * cols;
    return f32 ? Matrix{f32 + at, nullptr, nullptr} : Matrix{nullptr, q8 + at, scale + first};
  }
  explicit operator bool() const { return f32 || q8; }
};

namespace eigen {
// y = W x (+ b): W row-major [rows, cols], x [cols], y [rows]; b may be null.
void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols);
// Y = X W^T (+ b): X row-major [n, cols], Y row-major [n, rows]. The teacher-forced pass's products.
void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols);
float dot(const float* a, const float* b, int n);
void axpy(float a, const float* x, float* y, int n);  // y += a x
// The same two products over int8 weights with per-row scales (`scale` [rows]).
void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols);
void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols);
}  // namespace eigen

#if defined(__wasm_simd128__)
namespace simd {
void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols);
void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols);
float dot(const float* a, const float* b, int n);
void axpy(float a, const float* x, float* y, int n);
void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols);
void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols);
}  // namespace simd
namespace active = simd;
namespace active_q8 = simd;
inline const char* name() { return "wasm-simd128 + q8-simd128"; }
// Int8 matrices of at most this many weights (256 KiB as float32) are dequantized to float32 when a model
// loads (LoadOptions, model.cpp); larger ones stay int8. Without FMA the int8 kernel spends ~10
// instructions on 8 weights and is bound by instructions, not bytes: on a matrix that stays in cache
// float32 runs ~1.8x faster (matvec_bench in Node: 20-23 against 12-13 GFLOP/s up to 262,144 weights).
// In a whole decoder step the gain holds only while the step's matrices stay in cache, measured in Node
// (engine_bench positions, dequantize_up_to): the G2P model (d128, every matrix <= 65,536 weights) steps
// in 102 us instead of 123; a d128 model with d_ff 1024 gains as much from its 65,536-weight matrices
// (187 -> 177 us) and nothing more from its 131,072-weight ones (180); a d256 one 2 % from its 65,536-weight
// ones and nothing from the 196,608- and 262,144-weight ones; the base-shaped d512 model steps 2.2x slower
// with every matrix float32 (8.3 ms against 3.7: 177 MB stream from memory). So: small matrices float32,
// large ones int8, a quarter of the bytes to read and to hold.
constexpr long kDequantizeUpTo = 1L << 16;
#elif (defined(__x86_64__) || defined(__i386__)) && !defined(__EMSCRIPTEN__)
#define STEPWISE_KERNELS_X86 1
namespace sse2 {
void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols);
void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols);
}  // namespace sse2
namespace avx2 {
bool supported();  // the CPU has AVX2 and FMA (and the OS saves their registers)
void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols);
void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols);
}  // namespace avx2
namespace avx512 {
bool supported();  // the CPU has AVX-512 F, BW, VL and DQ, and FMA (and the OS saves their registers)
void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols);
void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols);
}  // namespace avx512
// The int8 kernels this CPU runs: the best of avx512::, avx2:: and sse2:: it supports, capped by the
// environment variable STEPWISE_MAX_ISA (sse2, avx2 or avx512) when set; decided once, at the first call.
namespace x86 {
void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols);
void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols);
const char* name();  // "eigen + q8-avx512", "eigen + q8-avx2" or "eigen + q8-sse2"
}  // namespace x86
namespace active = eigen;
namespace active_q8 = x86;
inline const char* name() { return x86::name(); }
// Natively the int8 kernels beat Eigen's float32 product at every size measured (the G2P model's step: 50 us
// with its matrices int8 and AVX2, 100 us dequantized): nothing is dequantized.
constexpr long kDequantizeUpTo = 0;
#else
namespace active = eigen;
namespace active_q8 = eigen;
inline const char* name() { return "eigen + q8-eigen"; }
constexpr long kDequantizeUpTo = 0;
#endif

inline void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols) {
  active::matvec(W, b, x, y, rows, cols);
}
inline void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols) {
  active::linear_rows(X, n, W, b, Y, rows, cols);
}
inline float dot(const float* a, const float* b, int n) { return active::dot(a, b, n); }
inline void axpy(float a, const float* x, float* y, int n) { active::axpy(a, x, y, n); }

// The model's products, on whichever form its weights have.
inline void matvec(const Matrix& W, const float* b, const float* x, float* y, int rows, int cols) {
  if (W.q8)
    active_q8::matvec_q8(W.q8, W.scale, b, x, y, rows, cols);
  else
    active::matvec(W.f32, b, x, y, rows, cols);
}
inline void linear_rows(const float* X, int n, const Matrix& W, const float* b, float* Y, int rows, int cols) {
  if (W.q8)
    active_q8::linear_rows_q8(X, n, W.q8, W.scale, b, Y, rows, cols);
  else
    active::linear_rows(X, n, W.f32, b, Y, rows, cols);
}

}  // namespace stepwise::kernels

// The hot loops of a decoder step, behind one small interface: matrix-vector products (projections,
// feed-forward, output layer) and the dot products / weighted sums of attention.
//
// `eigen::` is the reference: Eigen maps over the row-major weights. Natively it is the one used (Eigen
// vectorizes with SSE/AVX). Eigen 3.4 has no WebAssembly SIMD backend, so WebAssembly builds compiled
// with -msimd128 use the hand-written `simd::` kernels instead (kernels_simd.cpp); tests hold them to the
// Eigen reference.
#pragma once

namespace stepwise::kernels {

namespace eigen {
// y = W x (+ b): W row-major [rows, cols], x [cols], y [rows]; b may be null.
void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols);
// Y = X W^T (+ b): X row-major [n, cols], Y row-major [n, rows]. The teacher-forced pass's products.
void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols);
float dot(const float* a, const float* b, int n);
void axpy(float a, const float* x, float* y, int n);  // y += a x
}  // namespace eigen

#if defined(__wasm_simd128__)
namespace simd {
void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols);
void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols);
float dot(const float* a, const float* b, int n);
void axpy(float a, const float* x, float* y, int n);
}  // namespace simd
namespace active = simd;
inline const char* name() { return "wasm-simd128"; }
#else
namespace active = eigen;
inline const char* name() { return "eigen"; }
#endif

inline void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols) {
  active::matvec(W, b, x, y, rows, cols);
}
inline void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols) {
  active::linear_rows(X, n, W, b, Y, rows, cols);
}
inline float dot(const float* a, const float* b, int n) { return active::dot(a, b, n); }
inline void axpy(float a, const float* x, float* y, int n) { active::axpy(a, x, y, n); }

}  // namespace stepwise::kernels

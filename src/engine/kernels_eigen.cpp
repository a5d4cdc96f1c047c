#include <Eigen/Core>
#include <algorithm>

#include "kernels.h"

namespace stepwise::kernels::eigen {

namespace {
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf>;
using VectorMap = Eigen::Map<Eigen::VectorXf>;
using Int8Matrix = Eigen::Matrix<int8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstInt8Map = Eigen::Map<const Int8Matrix>;
using OutBlock = Eigen::Map<RowMatrix, Eigen::Unaligned, Eigen::OuterStride<>>;

// Words are short: for a few rows, Eigen's matrix-matrix product spends more time repacking W than
// multiplying (measured: a quarter of a G2P conversion), so row-by-row matrix-vector products win.
constexpr int kRowsForGemm = 16;
}  // namespace

void matvec(const float* W, const float* b, const float* x, float* y, int rows, int cols) {
  VectorMap out(y, rows);
  out.noalias() = ConstMatrixMap(W, rows, cols) * ConstVectorMap(x, cols);
  if (b) out += ConstVectorMap(b, rows);
}

void linear_rows(const float* X, int n, const float* W, const float* b, float* Y, int rows, int cols) {
  if (n <= kRowsForGemm) {
    for (int i = 0; i < n; ++i) matvec(W, b, X + static_cast<long>(i) * cols, Y + static_cast<long>(i) * rows, rows, cols);
    return;
  }
  MatrixMap out(Y, n, rows);
  out.noalias() = ConstMatrixMap(X, n, cols) * ConstMatrixMap(W, rows, cols).transpose();
  if (b) out.rowwise() += ConstVectorMap(b, rows).transpose();
}

float dot(const float* a, const float* b, int n) { return ConstVectorMap(a, n).dot(ConstVectorMap(b, n)); }

void axpy(float a, const float* x, float* y, int n) { VectorMap(y, n) += a * ConstVectorMap(x, n); }

// Row by row, each int8 row widened as the dot product reads it (no temporary, no allocation).
void matvec_q8(const int8_t* W, const float* scale, const float* b, const float* x, float* y, int rows, int cols) {
  const ConstInt8Map w(W, rows, cols);
  const ConstVectorMap xv(x, cols);
  for (int r = 0; r < rows; ++r) y[r] = scale[r] * w.row(r).cast<float>().dot(xv.transpose()) + (b ? b[r] : 0.0f);
}

// Few input rows: matrix-vector products. Many: blocks of W dequantized (q * scale) into a float buffer
// of at most kBlockFloats, each multiplied by Eigen's matrix-matrix product into its columns of Y, so the
// teacher-forced pass over a long sequence keeps the speed of a GEMM without a float copy of the model.
void linear_rows_q8(const float* X, int n, const int8_t* W, const float* scale, const float* b, float* Y, int rows,
                    int cols) {
  if (n <= kRowsForGemm) {
    for (int i = 0; i < n; ++i)
      matvec_q8(W, scale, b, X + static_cast<long>(i) * cols, Y + static_cast<long>(i) * rows, rows, cols);
    return;
  }
  constexpr long kBlockFloats = 1L << 16;  // 256 kB: stays in L2 while the GEMM reads it
  const int block_rows = static_cast<int>(std::max(1L, std::min<long>(rows, kBlockFloats / cols)));
  RowMatrix block(block_rows, cols);
  const ConstMatrixMap x(X, n, cols);
  for (int r0 = 0; r0 < rows; r0 += block_rows) {
    const int m = std::min(block_rows, rows - r0);
    for (int r = 0; r < m; ++r)
      block.row(r) = ConstInt8Map(W + static_cast<long>(r0 + r) * cols, 1, cols).cast<float>() * scale[r0 + r];
    OutBlock out(Y + r0, n, m, Eigen::OuterStride<>(rows));
    out.noalias() = x * block.topRows(m).transpose();
    if (b) out.rowwise() += ConstVectorMap(b + r0, m).transpose();
  }
}

}  // namespace stepwise::kernels::eigen

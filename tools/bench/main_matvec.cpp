// stepwise_matvec_ceiling: the matrix-vector micro-benchmark alone, built with -march=native (AVX-512
// here) to show what this CPU can do at best; the engine itself is built without it.
//
//   stepwise_matvec_ceiling SAMPLES MIN_SECONDS ROWSxCOLS...     JSON on stdout
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "matvec_bench.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: stepwise_matvec_ceiling SAMPLES MIN_SECONDS ROWSxCOLS...\n";
    return 2;
  }
  std::vector<std::pair<int, int>> shapes;
  for (int i = 3; i < argc; ++i) {
    int rows = 0, cols = 0;
    if (std::sscanf(argv[i], "%dx%d", &rows, &cols) != 2 || rows <= 0 || cols <= 0) {
      std::cerr << "stepwise_matvec_ceiling: bad shape '" << argv[i] << "'\n";
      return 2;
    }
    shapes.emplace_back(rows, cols);
  }
  std::cout << stepwise::bench::matvec_benchmark(shapes, std::atoi(argv[1]), std::atof(argv[2])).dump() << '\n';
  return 0;
}

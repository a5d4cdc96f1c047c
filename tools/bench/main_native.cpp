// stepwise_bench: the engine benchmark, natively (see tools/bench/README.md).
//
//   stepwise_bench --model FILE --options OPTIONS.json      results as JSON on stdout
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine_bench.h"
#include "stepwise.h"

int main(int argc, char** argv) {
  std::string model_path, options_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--model")) model_path = argv[i + 1];
    else if (!std::strcmp(argv[i], "--options")) options_path = argv[i + 1];
  }
  if (model_path.empty() || options_path.empty()) {
    std::cerr << "usage: stepwise_bench --model FILE --options OPTIONS.json\n";
    return 2;
  }
  try {
    std::ifstream in(options_path);
    if (!in) throw stepwise::Error("cannot open options file '" + options_path + "'");
    std::stringstream text;
    text << in.rdbuf();
    const nlohmann::json options = nlohmann::json::parse(text.str());
    const auto model = stepwise::Model::load_file(model_path, stepwise::bench::load_options(options));
    std::cout << stepwise::bench::run_engine_benchmark(model, options).dump() << '\n';
  } catch (const std::exception& e) {
    std::cerr << "stepwise_bench: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

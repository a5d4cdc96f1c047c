// The engine benchmark as a WebAssembly module (build-wasm/stepwise-bench.js), for Node and Chromium:
//
//   const M = await createStepwiseBench();
//   bench_load(bytes, size, options_json) -> "" | the error;  bench_run(options_json) -> results JSON (or {"error": ...})
//
// The same engine_bench.cpp as the native stepwise_bench, so both sides run identical work.
#include <emscripten/emscripten.h>

#include <string>

#include "engine_bench.h"
#include "stepwise.h"

namespace {
std::shared_ptr<const stepwise::Model> model;
std::string result;
}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* bench_kernels() { return stepwise::kernels::name(); }

EMSCRIPTEN_KEEPALIVE const char* bench_load(const uint8_t* bytes, int size, const char* options) {
  try {
    model = stepwise::Model::load_bytes(bytes, static_cast<size_t>(size), "model",
                                        stepwise::bench::load_options(nlohmann::json::parse(options)));
    result.clear();
  } catch (const std::exception& e) {
    result = e.what();
  }
  return result.c_str();  // empty: loaded
}

EMSCRIPTEN_KEEPALIVE const char* bench_run(const char* options) {
  try {
    if (!model) throw stepwise::Error("bench_run before bench_load");
    result = stepwise::bench::run_engine_benchmark(model, nlohmann::json::parse(options)).dump();
  } catch (const std::exception& e) {
    result = nlohmann::json{{"error", e.what()}}.dump();
  }
  return result.c_str();
}

}  // extern "C"

// The engine's side of the benchmark, compiled from this one source natively (stepwise_bench) and into
// WebAssembly (build-wasm/stepwise-bench.js, run under Node and in Chromium), so that both builds time
// identical work with an identical harness. tools/bench/README.md documents the options and results.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "model.h"

namespace stepwise::bench {

// options: {"words": [...], "samples": 5, "min_seconds": 0.02, "warmup_seconds": 0.2, "max_length": 0,
//           "positions": [1, 2, 4, ...], "matvec_shapes": [[rows, cols], ...],
//           "sections": ["matvec", "positions", "greedy", "forward"], "probe": false,
//           "dequantize_up_to": N (LoadOptions: the model loaded so; absent: the build's default)}
// Returns {"kernels", "model", and one entry per section}. With "probe": true, each position also has
// "us_probe" (the same step with a StepProbe attached, timed in turns with it) and "probe_over_off",
// and "greedy" has "probe": {"us_per_token", "us_per_step", "probe_over_off", "outputs_equal"}
// (Generator::set_probe(true)); every other field is as without it.
nlohmann::json run_engine_benchmark(const std::shared_ptr<const Model>& model, const nlohmann::json& options);

// How to load the model for these options ("dequantize_up_to").
LoadOptions load_options(const nlohmann::json& options);

}  // namespace stepwise::bench

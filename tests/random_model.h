// Random small models for property tests and fuzzing seeds: a random configuration (architecture,
// sizes, norms, activations, positions, tying, vocabularies) with random weights, as safetensors bytes.
#pragma once

#include <cstdint>
#include <vector>

namespace fixtures {

// Deterministic in `seed`. The tensors are exactly stepwise::expected_tensors() of the configuration.
std::vector<uint8_t> random_model(uint64_t seed);

}  // namespace fixtures

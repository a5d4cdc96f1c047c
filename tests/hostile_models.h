// Valid model files that are small on disk but ask a careless engine for a lot at run time: many
// layers and the longest sequences the configuration allows. The engine must size its buffers for the
// request (the word, the length limit, the beam), not for these limits, and refuse what would not fit.
#pragma once

#include <cstdint>
#include <vector>

namespace fixtures {

// An encoder-decoder model with `encoder_layers` + `decoder_layers` layers, d_model 8, 2 heads, d_ff 8,
// sinusoidal positions (none stored) and max_source_len = max_target_len = `positions`; source
// vocabulary a-e, target <pad> <s> </s> A B C; random weights, deterministic in `seed`. With 4 + 64
// layers and 8192 positions: about 200 kB, and about 36 MiB for one decoder state sized for max_target_len.
std::vector<uint8_t> deep_model(int encoder_layers, int decoder_layers, int positions, uint64_t seed = 1);

}  // namespace fixtures

// Stepwise: an encoder-decoder Transformer that decodes one token at a time and shows its attention.
//
//   auto model = stepwise::Model::load_file("weights/g2p-cmudict.safetensors");
//   stepwise::Generator run(model, stepwise::DecodeOptions{});        // greedy
//   run.start(stepwise::encode_input(model->config(), "phoenix"));   // the encoder, once
//   while (!run.done()) run.step();                                   // one phoneme per step
//   std::string phonemes = stepwise::decode_output(model->config(), run.output());
//
// After each step, run.state().self_attention / cross_attention hold the attention rows that step used.
#pragma once

#include "config.h"
#include "decoding.h"
#include "error.h"
#include "kernels.h"
#include "model.h"
#include "safetensors.h"
#include "tokenizer.h"
#include "transformer.h"

namespace stepwise {
constexpr const char* kVersion = "0.1.0";
}

// User text <-> token ids, with the checks and messages a person typing into the page needs.
#pragma once

#include <string>
#include <vector>

#include "config.h"

namespace stepwise {

// The model's input for `text`: source-vocabulary ids for an encoder-decoder model (G2P: the letters of
// a word), or a prompt in the target vocabulary for a decoder-only one -- for a decoder-only model with a
// separator (target_vocab.sep), the word's letters followed by <sep>. Rejects empty or over-long text,
// invalid UTF-8 and symbols outside the vocabulary, naming the symbol and its position.
std::vector<int> encode_input(const ModelConfig& config, const std::string& text);

// A target sequence typed as text ("F IY1 N IH0 K S") -> target ids without specials (teacher forcing).
std::vector<int> encode_target(const ModelConfig& config, const std::string& text);

// Generated ids -> text ("F IY1 N IH0 K S"); <s>, </s> and <pad> are left out.
std::string decode_output(const ModelConfig& config, const std::vector<int>& ids);

}  // namespace stepwise

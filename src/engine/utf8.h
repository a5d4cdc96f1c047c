// Small UTF-8 helpers for the tokenizer: strict decoding (user text is untrusted) and readable names
// for symbols in error messages.
#pragma once

#include <string>
#include <vector>

namespace stepwise::utf8 {

// Splits `text` into code points (each as its UTF-8 bytes). Rejects malformed, overlong and surrogate
// sequences with an Error naming `what` and the byte offset.
std::vector<std::string> code_points(const std::string& text, const std::string& what);

// Splits `text` on ASCII whitespace (after checking it is valid UTF-8).
std::vector<std::string> words(const std::string& text, const std::string& what);

// Lowercases A-Z; leaves every other byte alone.
std::string ascii_lower(const std::string& s);

// "'x'", or "U+0007" for control and invisible characters, or "'é' (U+00E9)" beyond ASCII.
std::string describe(const std::string& symbol);

// A short list of a vocabulary's tokens for messages, leaving out `skip` ids: "' - . a b c ... z".
std::string summarize(const std::vector<std::string>& tokens, const std::vector<int>& skip);

}  // namespace stepwise::utf8

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

// Text from a file or a user made safe for a one-line message: control characters (C0, DEL, C1) and bytes
// that are not UTF-8 become escapes (\n, \t, \x1b, \u009b), so no terminal escape sequence gets through;
// past `max_bytes` it is cut at a character boundary and "… (N bytes)" says how long it was.
std::string printable(const std::string& text, size_t max_bytes = 64);

// A short list of a vocabulary's tokens for messages, leaving out `skip` ids: "' - . a b c ... z".
std::string summarize(const std::vector<std::string>& tokens, const std::vector<int>& skip);

}  // namespace stepwise::utf8

// Bounded JSON for untrusted model files. nlohmann::json parses whatever it is given: nesting as deep as
// the input (and dump() or the destructor then recurse that deep: a stack overflow), arrays of millions
// of values (hundreds of MB before any check sees them), duplicate keys (the last silently wins). Every
// JSON text the engine reads from a file goes through parse_bounded() instead, which stops at the first
// violation of the limits below with one message, and brief() is how a parsed value enters a message.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace stepwise {

namespace limits {
constexpr int kMaxJsonDepth = 16;                 // a model file's JSON nests 3 levels deep
constexpr size_t kMaxJsonContainer = (1u << 20) + 1;  // values in one array or object (a vocabulary's size + 1)
constexpr size_t kMaxJsonValues = 4u << 20;       // values in one document
}  // namespace limits

// Parses `text`; throws stepwise::Error naming `what` ("origin: the safetensors header") when it is not
// valid JSON, nests deeper than kMaxJsonDepth, holds a container of more than kMaxJsonContainer values or
// more than kMaxJsonValues values in all, or repeats a key within one object.
nlohmann::json parse_bounded(const char* begin, const char* end, const std::string& what);

// A parsed value for a message: its JSON text, cut to `max_chars` with "…" (a value from a hostile file
// may be megabytes long), control characters escaped as JSON escapes them.
std::string brief(const nlohmann::json& value, size_t max_chars = 60);

}  // namespace stepwise

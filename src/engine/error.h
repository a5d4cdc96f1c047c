// The one exception type of the engine. Every message names what is wrong (the file, tensor, field or
// argument), with the expected and the actual value, so callers can show it to a user unchanged.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace stepwise {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
// Text as an ostream would print it (numbers with %g's 6 significant digits), without pulling iostreams
// and their locales into the WebAssembly module.
inline void append(std::string& out, std::string_view text) { out += text; }
inline void append(std::string& out, char c) { out += c; }
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
void append(std::string& out, T value) {
  if constexpr (std::is_floating_point_v<T>) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(value));
    out += buffer;
  } else {
    out += std::to_string(value);
  }
}
}  // namespace detail

// Concatenates text and numbers: concat("tensor '", name, "' has ", n, " values").
template <typename... Parts>
std::string concat(const Parts&... parts) {
  std::string out;
  (detail::append(out, parts), ...);
  return out;
}

// Throws an Error with the concatenated message.
template <typename... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(concat(parts...));
}

}  // namespace stepwise

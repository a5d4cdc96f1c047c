// The one exception type of the engine. Every message names what is wrong (the file, tensor, field or
// argument), with the expected and the actual value, so callers can show it to a user unchanged.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace stepwise {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from any streamable parts: fail("tensor '", name, "' has ", n, " values").
template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  throw Error(out.str());
}

}  // namespace stepwise

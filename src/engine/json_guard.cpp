#include "json_guard.h"

#include <set>
#include <vector>

#include "error.h"

namespace stepwise {

using json = nlohmann::json;

namespace {

// A first pass over the text with nlohmann's SAX interface, which builds nothing: one frame per open
// container with its value count and, for objects, the keys seen so far. Throwing stops the parse at
// the first violation, so nothing past it is read. (nlohmann's parse callback could do the same checks
// in one pass, but its DOM builder rescans the parent container after every child container closes:
// quadratic time on a header of 50,000 tensors.)
class Guard {
 public:
  explicit Guard(const std::string& what) : what_(what) {}

  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const json::string_t&) { return value(); }
  bool string(json::string_t&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool start_object(std::size_t) { return open(true); }
  bool start_array(std::size_t) { return open(false); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& key) {
    if (!frames_.back().keys.insert(key).second) fail(what_, " has the key ", brief(key), " twice in one object");
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    fail(what_, " is not valid JSON: ", e.what());
  }

 private:
  struct Frame {
    bool object;
    size_t values;
    std::set<std::string> keys;
  };

  // A value (or container) inside the innermost open container.
  bool value() {
    if (++total_ > limits::kMaxJsonValues) fail(what_, " holds more than ", limits::kMaxJsonValues, " JSON values");
    if (!frames_.empty() && ++frames_.back().values > limits::kMaxJsonContainer)
      fail(what_, " has an ", frames_.back().object ? "object" : "array", " of more than ",
           limits::kMaxJsonContainer, " values");
    return true;
  }
  bool open(bool object) {
    value();
    if (frames_.size() + 1 > static_cast<size_t>(limits::kMaxJsonDepth))
      fail(what_, " nests arrays and objects more than ", limits::kMaxJsonDepth, " levels deep");
    frames_.push_back({object, 0, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }

  const std::string& what_;
  std::vector<Frame> frames_;
  size_t total_ = 0;
};

}  // namespace

json parse_bounded(const char* begin, const char* end, const std::string& what) {
  Guard guard(what);
  json::sax_parse(begin, end, &guard);
  // Within the limits, the ordinary parser (iterative, linear) builds the value.
  try {
    return json::parse(begin, end);
  } catch (const json::exception& e) {
    fail(what, " is not valid JSON: ", e.what());
  }
}

std::string brief(const json& value, size_t max_chars) {
  // Containers can hold millions of values: print only as many as fit.
  if (value.is_structured()) {
    std::string out = value.is_array() ? "[" : "{";
    size_t i = 0;
    for (auto it = value.begin(); it != value.end(); ++it, ++i) {
      if (out.size() > max_chars) return out + "…";
      if (i) out += ",";
      if (value.is_object()) out += brief(json(it.key()), max_chars) + ":";
      out += brief(*it, max_chars);
    }
    out += value.is_array() ? "]" : "}";
    return out.size() > max_chars ? out.substr(0, max_chars) + "…" : out;
  }
  // dump() escapes control characters and non-ASCII (no terminal escape sequence gets through); invalid
  // UTF-8 is replaced rather than thrown on.
  std::string text = value.dump(-1, ' ', true, json::error_handler_t::replace);
  if (text.size() <= max_chars) return text;
  size_t cut = max_chars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // a whole UTF-8 character
  return text.substr(0, cut) + "…";
}

}  // namespace stepwise

#include "json_guard.h"

#include <set>
#include <vector>

#include "error.h"

namespace stepwise {

using json = nlohmann::json;

namespace {

// Walks the parser's events: one frame per open container with its value count and, for objects, the
// keys seen so far. Throwing from the callback stops the parse there: nothing past a violation is read.
class Guard {
 public:
  explicit Guard(const std::string& what) : what_(what) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        count_value();
        if (depth + 1 > limits::kMaxJsonDepth)
          fail(what_, " nests arrays and objects more than ", limits::kMaxJsonDepth, " levels deep");
        frames_.push_back({event == json::parse_event_t::object_start, 0, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        break;
      case json::parse_event_t::key: {
        Frame& frame = frames_.back();
        if (!frame.keys.insert(parsed.get_ref<const std::string&>()).second)
          fail(what_, " has the key ", brief(parsed), " twice in one object");
        break;
      }
      case json::parse_event_t::value:
        count_value();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    size_t values;
    std::set<std::string> keys;
  };

  // A value (or container) inside the innermost open container.
  void count_value() {
    if (++total_ > limits::kMaxJsonValues) fail(what_, " holds more than ", limits::kMaxJsonValues, " JSON values");
    if (!frames_.empty() && ++frames_.back().values > limits::kMaxJsonContainer)
      fail(what_, " has an ", frames_.back().object ? "object" : "array", " of more than ",
           limits::kMaxJsonContainer, " values");
  }

  const std::string& what_;
  std::vector<Frame> frames_;
  size_t total_ = 0;
};

}  // namespace

json parse_bounded(const char* begin, const char* end, const std::string& what) {
  Guard guard(what);
  try {
    return json::parse(begin, end, [&guard](int depth, json::parse_event_t event, json& parsed) {
      return guard(depth, event, parsed);
    });
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

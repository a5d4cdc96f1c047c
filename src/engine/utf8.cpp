#include "utf8.h"

#include <algorithm>
#include <cstdio>

#include "error.h"

namespace stepwise::utf8 {

namespace {

// Decodes the code point starting at text[i]; returns its byte length, or 0 if the bytes are malformed.
size_t decode(const std::string& text, size_t i, unsigned* code_point) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned c = byte(i);
  size_t length;
  unsigned min;
  if (c < 0x80) {
    *code_point = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    length = 2, min = 0x80, c &= 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3, min = 0x800, c &= 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4, min = 0x10000, c &= 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *code_point = c;
  return length;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

std::vector<std::string> code_points(const std::string& text, const std::string& what) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    unsigned cp;
    size_t n = decode(text, i, &cp);
    if (n == 0) {
      char byte_hex[8];
      std::snprintf(byte_hex, sizeof byte_hex, "0x%x", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      fail(what, " is not valid UTF-8 (bad byte ", byte_hex, " at byte ", i, ")");
    }
    out.push_back(text.substr(i, n));
    i += n;
  }
  return out;
}

std::vector<std::string> words(const std::string& text, const std::string& what) {
  code_points(text, what);  // validates
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (is_ascii_space(c)) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string ascii_lower(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string printable(const std::string& text, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  for (; i < text.size() && i < max_bytes;) {
    unsigned cp;
    const size_t n = decode(text, i, &cp);
    char escape[12];
    if (n == 0) {
      std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      out += escape;
      i += 1;
      continue;
    }
    if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F) {
      std::snprintf(escape, sizeof escape, "\\x%02x", cp);
      out += escape;
    } else if (cp >= 0x80 && cp < 0xA0) {
      std::snprintf(escape, sizeof escape, "\\u%04x", cp);
      out += escape;
    } else {
      out.append(text, i, n);
    }
    i += n;
  }
  if (i < text.size()) out += "… (" + std::to_string(text.size()) + " bytes)";
  return out;
}

std::string describe(const std::string& symbol) {
  unsigned cp = 0;
  size_t n = symbol.empty() ? 0 : decode(symbol, 0, &cp);
  char hex[16];
  std::snprintf(hex, sizeof hex, "U+%04X", cp);
  if (n != symbol.size() || n == 0) return "'" + printable(symbol) + "'";  // a multi-symbol token ("space" split)
  if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
      cp == 0xFEFF)
    return hex;
  if (cp == ' ') return "a space";
  if (cp < 0x80) return "'" + symbol + "'";
  return "'" + symbol + "' (" + hex + ")";
}

std::string summarize(const std::vector<std::string>& tokens, const std::vector<int>& skip) {
  std::string out;
  int shown = 0, total = 0;
  for (int i = 0; i < static_cast<int>(tokens.size()); ++i) {
    if (std::find(skip.begin(), skip.end(), i) != skip.end()) continue;
    ++total;
    if (out.size() < 60) {
      out += (out.empty() ? "" : " ") + printable(tokens[i], 16);
      ++shown;
    }
  }
  if (shown < total) out += " ... " + std::to_string(total) + " in all";
  return out;
}

}  // namespace stepwise::utf8

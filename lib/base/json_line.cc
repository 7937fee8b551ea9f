#include "base/json_line.h"

namespace imgroot {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 0;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) low = 0xA0;
    if (c == 0xED) high = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) low = 0x90;
    if (c == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  const auto second = static_cast<unsigned char>(s[i + 1]);
  if (second < low || second > high) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (!continuation(static_cast<unsigned char>(s[i + k]))) return 0;
  return n;
}

void escape_ascii(std::string& out, char c) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  if (static_cast<unsigned char>(c) >= 0x20) {
    out += c;
    return;
  }
  constexpr char kHex[] = "0123456789abcdef";
  out += "\\u00";
  out += kHex[(c >> 4) & 0xF];
  out += kHex[c & 0xF];
}

}  // namespace

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      escape_ascii(out, s[i++]);
    } else if (const std::size_t n = utf8_length(s, i)) {
      out += s.substr(i, n);
      i += n;
    } else {
      out += kReplacement;
      ++i;
    }
  }
  return out + "\"";
}

std::string& JsonLine::next(std::string_view key) {
  if (!members_.empty()) members_ += ",";
  members_ += json_string(key) + ":";
  return members_;
}

JsonLine& JsonLine::add_string(std::string_view key, std::string_view value) {
  next(key) += json_string(value);
  return *this;
}

JsonLine& JsonLine::add_int(std::string_view key, std::int64_t value) {
  next(key) += std::to_string(value);
  return *this;
}

JsonLine& JsonLine::add_bool(std::string_view key, bool value) {
  next(key) += value ? "true" : "false";
  return *this;
}

JsonLine& JsonLine::add_list(std::string_view key, const std::vector<std::string>& values) {
  std::string& out = next(key);
  out += "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + json_string(values[i]);
  out += "]";
  return *this;
}

}  // namespace imgroot

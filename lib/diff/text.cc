#include "diff/text.h"

#include <cstdio>

namespace imgroot::diff {

namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 when there is none.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n;
  unsigned min;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  unsigned cp = c & (0x3f >> (n - 1));
  for (std::size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

void hex_byte(std::string& out, unsigned char c) {
  static const char* hex = "0123456789abcdef";
  out += "\\x";
  out += hex[c >> 4];
  out += hex[c & 15];
}

std::string pair(const std::string& a, const std::string& b) { return "(" + a + "->" + b + ")"; }

std::string owner(const Node& n) { return std::to_string(n.uid) + ":" + std::to_string(n.gid); }

std::string device(const Node& n) {
  return std::to_string(n.major) + ":" + std::to_string(n.minor);
}

std::string set_changes(const std::vector<SetChange>& changes) {
  std::string out = "(";
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (i) out += ",";
    out += changes[i].first;
    out += escape(changes[i].second);
  }
  return out + ")";
}

}  // namespace

std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      hex_byte(out, c);
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if (std::size_t n = utf8_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      hex_byte(out, c);
      ++i;
    }
  }
  return out;
}

std::string octal_mode(mode_t perm) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(perm & 07777));
  return buf;
}

std::string format_entry(const Entry& e) {
  switch (e.kind) {
    case Kind::kAdded: return "+ " + escape(e.path);
    case Kind::kRemoved: return "- " + escape(e.path);
    case Kind::kChanged: break;
  }
  std::string out = "~ " + escape(e.path) + " ";
  bool first = true;
  for (std::size_t i = 0; i < kAspectCount; ++i) {
    const auto aspect = static_cast<Aspect>(i);
    if (!e.has(aspect)) continue;
    if (!first) out += ",";
    first = false;
    out += aspect_name(aspect);
    const Node& a = *e.a;
    const Node& b = *e.b;
    switch (aspect) {
      case Aspect::kType: out += pair(type_name(a.type), type_name(b.type)); break;
      case Aspect::kContent: break;
      case Aspect::kSize: out += pair(std::to_string(a.size), std::to_string(b.size)); break;
      case Aspect::kMode: out += pair(octal_mode(a.perm), octal_mode(b.perm)); break;
      case Aspect::kOwner: out += pair(owner(a), owner(b)); break;
      case Aspect::kTarget: out += pair(escape(a.target), escape(b.target)); break;
      case Aspect::kDevice: out += pair(device(a), device(b)); break;
      case Aspect::kXattrs: out += set_changes(e.xattrs); break;
      case Aspect::kLinks: out += set_changes(e.links); break;
    }
  }
  return out;
}

std::string format_summary(const Summary& s) {
  std::string out = std::to_string(s.added) + " added, " + std::to_string(s.removed) +
                    " removed, " + std::to_string(s.changed) + " changed";
  std::string detail;
  for (std::size_t i = 0; i < kAspectCount; ++i) {
    if (!s.by_aspect[i]) continue;
    if (!detail.empty()) detail += ", ";
    detail += std::string(aspect_name(static_cast<Aspect>(i))) + " " + std::to_string(s.by_aspect[i]);
  }
  if (!detail.empty()) out += " (" + detail + ")";
  return out;
}

}  // namespace imgroot::diff

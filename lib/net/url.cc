// resolve() and to_url(): URL references (RFC 3986 section 5) and local
// paths, without libcurl.
#include <cctype>
#include <filesystem>
#include <optional>
#include <string_view>

#include "net/http.h"

namespace imgroot::net {
namespace {

// A URI reference split as RFC 3986 appendix B does; absent parts are empty
// optionals (an empty query "?" is present and empty).
struct Reference {
  std::optional<std::string> scheme;
  std::optional<std::string> authority;
  std::string path;
  std::optional<std::string> query;
  std::optional<std::string> fragment;
};

bool is_scheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

Reference split(std::string_view s) {
  Reference r;
  if (auto colon = s.find_first_of(":/?#"); colon != s.npos && s[colon] == ':' &&
                                            is_scheme(s.substr(0, colon))) {
    r.scheme = std::string(s.substr(0, colon));
    s.remove_prefix(colon + 1);
  }
  if (s.starts_with("//")) {
    s.remove_prefix(2);
    auto end = s.find_first_of("/?#");
    r.authority = std::string(s.substr(0, end));
    s.remove_prefix(end == s.npos ? s.size() : end);
  }
  if (auto hash = s.find('#'); hash != s.npos) {
    r.fragment = std::string(s.substr(hash + 1));
    s = s.substr(0, hash);
  }
  if (auto question = s.find('?'); question != s.npos) {
    r.query = std::string(s.substr(question + 1));
    s = s.substr(0, question);
  }
  r.path = std::string(s);
  return r;
}

std::string recompose(const Reference& r) {
  std::string out;
  if (r.scheme) out += *r.scheme + ":";
  if (r.authority) out += "//" + *r.authority;
  out += r.path;
  if (r.query) out += "?" + *r.query;
  if (r.fragment) out += "#" + *r.fragment;
  return out;
}

// RFC 3986 5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  auto drop_last_segment = [&] {
    auto slash = out.rfind('/');
    out.erase(slash == out.npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      drop_last_segment();
    } else if (in == "/..") {
      in = "/";
      drop_last_segment();
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      auto next = in.find('/', in.starts_with('/') ? 1 : 0);
      if (next == in.npos) next = in.size();
      out += in.substr(0, next);
      in.remove_prefix(next);
    }
  }
  return out;
}

// RFC 3986 5.2.3.
std::string merge(const Reference& base, const std::string& path) {
  if (base.authority && base.path.empty()) return "/" + path;
  auto slash = base.path.rfind('/');
  return slash == std::string::npos ? path : base.path.substr(0, slash + 1) + path;
}

// A string naming a URL rather than a local path: "scheme://...".
bool has_url_scheme(std::string_view s) {
  auto colon = s.find("://");
  return colon != s.npos && is_scheme(s.substr(0, colon));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() && (hi = hex_value(s[i + 1])) >= 0 &&
        (lo = hex_value(s[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A reference's path, decoded, against a plain local path: lexically, so a
// relative base keeps its leading "..".
std::string resolve_path(const std::string& base, const Reference& ref) {
  std::filesystem::path target = percent_decode(ref.path);
  if (ref.path.empty()) return base;
  if (target.is_relative()) target = std::filesystem::path(base).parent_path() / target;
  return target.lexically_normal().string();
}

}  // namespace

std::string resolve(const std::string& base_text, const std::string& relative) {
  Reference ref = split(relative);
  if (!has_url_scheme(base_text) && !ref.scheme) return resolve_path(base_text, ref);

  Reference base = split(base_text);
  Reference t;
  if (ref.scheme) {
    t = ref;
    t.path = remove_dot_segments(ref.path);
  } else {
    t.scheme = base.scheme;
    if (ref.authority) {
      t.authority = ref.authority;
      t.path = remove_dot_segments(ref.path);
      t.query = ref.query;
    } else {
      t.authority = base.authority;
      if (ref.path.empty()) {
        t.path = base.path;
        t.query = ref.query ? ref.query : base.query;
      } else {
        t.path = remove_dot_segments(ref.path.starts_with('/') ? ref.path : merge(base, ref.path));
        t.query = ref.query;
      }
    }
  }
  t.fragment = ref.fragment;
  return recompose(t);
}

std::string to_url(const std::string& url_or_path) {
  if (has_url_scheme(url_or_path)) return url_or_path;
  std::error_code ec;
  auto absolute = std::filesystem::absolute(url_or_path, ec);
  const std::string path = ec ? url_or_path : absolute.lexically_normal().string();
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace imgroot::net

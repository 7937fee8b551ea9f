// Splitting a small text file (passwd, a manifest) into its lines.
#pragma once

#include <string_view>
#include <vector>

namespace imgroot {

// Each line of 'text' without its '\n'; a last line without one counts.
inline std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return lines;
}

}  // namespace imgroot

#include "system/sysfs.h"

#include <charconv>

#include "system/file.h"

namespace imgroot {

std::string sysfs_attribute(const std::string& path) {
  auto text = read_file(path);
  if (!text) return {};
  std::string s = std::move(*text);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  const std::size_t start = s.find_first_not_of(' ');
  return start == std::string::npos ? std::string() : s.substr(start);
}

std::uint64_t sysfs_number(const std::string& path) {
  const std::string text = sysfs_attribute(path);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() && end == text.data() + text.size() ? n : 0;
}

bool is_loop_or_ram_disk(std::string_view name) {
  return name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram");
}

}  // namespace imgroot

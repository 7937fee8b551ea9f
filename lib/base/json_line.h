// One JSON object on one line, for the static init, which may not link
// nlohmann/json (the host side's event_to_json). Strings are escaped as
// RFC 8259 asks; bytes that are not UTF-8 become U+FFFD, as the host side
// writes them, so that any input (a path from the kernel command line)
// makes a line state::event_from_json reads back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace imgroot {

// 's' as a JSON string, its quotes included.
std::string json_string(std::string_view s);

// Members in the order they are added; a key is added once.
class JsonLine {
 public:
  JsonLine& add_string(std::string_view key, std::string_view value);
  JsonLine& add_int(std::string_view key, std::int64_t value);
  JsonLine& add_bool(std::string_view key, bool value);
  JsonLine& add_list(std::string_view key, const std::vector<std::string>& values);
  // "{...}", without a newline.
  std::string str() const { return "{" + members_ + "}"; }

 private:
  std::string& next(std::string_view key);
  std::string members_;
};

}  // namespace imgroot

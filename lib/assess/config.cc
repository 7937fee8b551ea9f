#include "assess/config.h"

#include <charconv>
#include <functional>
#include <map>

#include "base/lines.h"

namespace imgroot::assess {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Status parse_int(std::string_view value, int low, int high, int& out) {
  int n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < low || n > high)
    return fail("'" + std::string(value) + "' is not a number from " + std::to_string(low) +
                " to " + std::to_string(high));
  out = n;
  return {};
}

Status parse_bool(std::string_view value, bool& out) {
  if (value == "yes" || value == "true" || value == "1" || value == "on") {
    out = true;
    return {};
  }
  if (value == "no" || value == "false" || value == "0" || value == "off") {
    out = false;
    return {};
  }
  return fail("'" + std::string(value) + "' is not yes or no");
}

using Setter = std::function<Status(std::string_view, Config&)>;

Setter integer(int Config::*field, int low, int high) {
  return [=](std::string_view v, Config& c) { return parse_int(v, low, high, c.*field); };
}

Setter boolean(bool Config::*field) {
  return [=](std::string_view v, Config& c) { return parse_bool(v, c.*field); };
}

const std::map<std::string, Setter, std::less<>>& setters() {
  static const std::map<std::string, Setter, std::less<>> table{
      {"retries", integer(&Config::retries, 0, 100)},
      {"interval", integer(&Config::interval, 0, 3600)},
      {"timeout", integer(&Config::timeout, 1, 86400)},
      {"failed_units", boolean(&Config::failed_units)},
      {"ignore_units",
       [](std::string_view v, Config& c) -> Status {
         c.ignore_units.clear();
         for (auto word : words_of(v)) c.ignore_units.emplace_back(word);
         return {};
       }},
      {"default_target", boolean(&Config::default_target)},
      {"tcp_check", boolean(&Config::tcp_check)},
      {"tcp_port", integer(&Config::tcp_port, 1, 65535)},
      {"reboot_delay", integer(&Config::reboot_delay, 0, 86400)},
      {"watchdog", integer(&Config::watchdog, 0, 3600)},
  };
  return table;
}

}  // namespace

Status apply_config(std::string_view text, Config& config) {
  int number = 0;
  for (auto raw : lines_of(text)) {
    ++number;
    auto line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const std::string where = "line " + std::to_string(number) + ": ";
    auto eq = line.find('=');
    if (eq == std::string_view::npos) return fail(where + "no '=' in '" + std::string(line) + "'");
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    auto setter = setters().find(key);
    if (setter == setters().end()) return fail(where + "unknown setting '" + std::string(key) + "'");
    if (auto st = setter->second(value, config); !st)
      return std::unexpected(std::move(st.error()).context(where + std::string(key)));
  }
  return {};
}

}  // namespace imgroot::assess

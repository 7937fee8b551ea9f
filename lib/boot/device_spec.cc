#include "boot/device_spec.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace imgroot {

namespace {

struct Prefix {
  std::string_view text;
  DeviceSpec::Kind kind;
  const char* tag;
};

constexpr std::array kPrefixes{
    Prefix{"LABEL=", DeviceSpec::Kind::kLabel, "LABEL"},
    Prefix{"UUID=", DeviceSpec::Kind::kUuid, "UUID"},
    Prefix{"PARTUUID=", DeviceSpec::Kind::kPartUuid, "PART_ENTRY_UUID"},
    Prefix{"PARTLABEL=", DeviceSpec::Kind::kPartLabel, "PART_ENTRY_NAME"},
};

bool iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

const char* DeviceSpec::blkid_tag() const {
  for (const auto& p : kPrefixes)
    if (p.kind == kind) return p.tag;
  return "";
}

bool DeviceSpec::matches(std::string_view probed) const {
  if (kind == Kind::kUuid || kind == Kind::kPartUuid) return iequals(value, probed);
  return value == probed;
}

std::string DeviceSpec::to_string() const {
  for (const auto& p : kPrefixes)
    if (p.kind == kind) return std::string(p.text) + value;
  return value;
}

Result<DeviceSpec> parse_device_spec(std::string_view text) {
  for (const auto& p : kPrefixes) {
    if (text.starts_with(p.text)) {
      std::string value(text.substr(p.text.size()));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (value.empty()) return fail("empty value in device '" + std::string(text) + "'");
      return DeviceSpec{p.kind, std::move(value)};
    }
  }
  if (text.starts_with("/dev/") && text.size() > 5)
    return DeviceSpec{DeviceSpec::Kind::kPath, std::string(text)};
  return fail("device '" + std::string(text) +
              "' is not LABEL=, UUID=, PARTUUID=, PARTLABEL= or a /dev/ path");
}

}  // namespace imgroot

// How the kernel command line names the host partition:
// LABEL=, UUID=, PARTUUID=, PARTLABEL= or a /dev/ path.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "base/layout.h"

namespace imgroot {

struct DeviceSpec {
  enum class Kind { kLabel, kUuid, kPartUuid, kPartLabel, kPath };
  Kind kind = Kind::kLabel;
  std::string value;

  // The blkid tag this spec matches (LABEL, UUID, PART_ENTRY_UUID,
  // PART_ENTRY_NAME); empty for kPath.
  const char* blkid_tag() const;
  // Does a probed value of this spec's tag match? UUIDs ignore case.
  bool matches(std::string_view probed) const;
  // Back to the form it was written in, for messages: "LABEL=hostpart".
  std::string to_string() const;

  bool operator==(const DeviceSpec&) const = default;
};

inline const DeviceSpec kDefaultHostpart{DeviceSpec::Kind::kLabel, labels::kHostpart};

Result<DeviceSpec> parse_device_spec(std::string_view text);

}  // namespace imgroot

#include "state/hostpart.h"

#include <fcntl.h>

#include "boot/device_spec.h"
#include "state/mount_table.h"

namespace imgroot::state {

namespace {

Result<Hostpart> open_at_path(const std::string& path) {
  auto dir = Fd::open(path, O_RDONLY | O_DIRECTORY);
  if (!dir) return std::unexpected(std::move(dir.error()).context("host partition"));
  return Hostpart{path, std::move(*dir)};
}

}  // namespace

Result<Hostpart> open_hostpart(const std::optional<std::string>& given, const SystemPaths& paths) {
  if (given) return open_at_path(*given);
  const std::string label = kDefaultHostpart.value;
  if (auto table = MountTable::read(paths.mountinfo)) {
    if (auto target = table->target_of_tag("LABEL", label)) return open_at_path(*target);
  }
  auto dir = Fd::open(paths.default_hostpart, O_RDONLY | O_DIRECTORY);
  if (dir) return Hostpart{paths.default_hostpart, std::move(*dir)};
  return fail("find the host partition: no partition labelled '" + label +
              "' is mounted and " + quoted(paths.default_hostpart) +
              " is not a directory; mount it, or name its mount point with --hostpart DIR");
}

}  // namespace imgroot::state

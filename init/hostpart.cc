#include "hostpart.h"

#include <fcntl.h>
#include <time.h>

#include "dev/blkid.h"
#include "log.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/sysfs.h"

namespace imgroot::init {

namespace {

constexpr int kPollMs = 50;

// What the kernel sees, for the message when the partition never appears.
std::string block_devices_seen() {
  auto sys = Fd::open_dir("/sys/class/block");
  if (!sys) return "(cannot read /sys/class/block)";
  auto names = list_dir(sys->get());
  if (!names || names->empty()) return "none";
  std::string seen;
  for (const auto& n : *names) {
    if (is_loop_or_ram_disk(n)) continue;
    seen += (seen.empty() ? "" : " ") + n;
  }
  return seen.empty() ? "none" : seen;
}

}  // namespace

Result<std::string> wait_for_hostpart(const DeviceSpec& spec, int timeout_seconds,
                                      const std::function<void()>& each_poll,
                                      const std::function<void(int)>& pause,
                                      const std::function<bool()>& settled) {
  const long long deadline = now_ms() + timeout_seconds * 1000LL;
  for (;;) {
    each_poll();
    auto found = find_devices(spec);
    if (!found) return std::unexpected(found.error());
    if (found->size() == 1 && (settled() || now_ms() >= deadline)) return found->front();
    if (found->size() > 1) {
      std::string names;
      for (const auto& d : *found) names += (names.empty() ? "" : " and ") + d;
      return fail("host partition " + spec.to_string() + " is ambiguous: " + names +
                  " both match; relabel one, or name the partition by PARTUUID= in "
                  "imgroot.hostpart=");
    }
    if (now_ms() >= deadline && found->empty())
      return fail("host partition " + spec.to_string() + " not found after " +
                  std::to_string(timeout_seconds) + " s (block devices: " + block_devices_seen() +
                  "); check the disk, its driver in the initramfs, and imgroot.hostpart=");
    pause(kPollMs);
  }
}

Result<Mount> mount_hostpart(const std::string& device, const std::string& target) {
  auto fd = Fd::open(device, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  auto type = probe_filesystem_type(fd->get(), Filesystems::kHost);
  if (!type) return std::unexpected(type.error());
  if (!*type) return fail("host partition " + quoted(device) + " has no filesystem libblkid knows");
  return Mount::create(device, target, **type, MS_NOATIME);
}

}  // namespace imgroot::init

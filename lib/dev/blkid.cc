#include "dev/blkid.h"

#include <blkid/blkid.h>
#include <fcntl.h>

#include <memory>

#include "image/filesystems.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/sysfs.h"

namespace imgroot {

namespace {

struct ProbeFree {
  void operator()(blkid_probe p) const { blkid_free_probe(p); }
};
using Probe = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeFree>;

std::optional<std::string> lookup(blkid_probe probe, const char* tag) {
  const char* value = nullptr;
  if (blkid_probe_lookup_value(probe, tag, &value, nullptr) == 0 && value) return value;
  return std::nullopt;
}

// The filesystems a host partition may carry (docs/design.md section 1). Probing
// only for these keeps each probe to a few reads, which matters while the
// init polls every block device.
const char* const kHostFilesystems[] = {"ext4", "ext3", "ext2", "btrfs", "xfs", nullptr};

// A probe of the file or device behind 'fd'.
Result<Probe> new_probe(int fd) {
  Probe probe(blkid_new_probe());
  if (!probe) return fail("probe filesystem: libblkid could not allocate a probe");
  if (blkid_probe_set_device(probe.get(), fd, 0, 0) < 0) return fail_errno("probe filesystem");
  return probe;
}

// Look for filesystem superblocks, reporting the values 'flags' names; only
// for the types in 'only' (null-terminated) unless it is null.
void look_for_filesystems(blkid_probe probe, int flags, const char* const* only) {
  blkid_probe_enable_superblocks(probe, 1);
  blkid_probe_set_superblocks_flags(probe, flags);
  if (only)
    blkid_probe_filter_superblocks_type(probe, BLKID_FLTR_ONLYIN, const_cast<char**>(only));
}

// Probe a device for the tag 'spec' names; nullopt when it cannot be opened
// or has no such value.
std::optional<std::string> probe_tag(const std::string& device, const DeviceSpec& spec) {
  auto fd = Fd::open(device, O_RDONLY | O_NONBLOCK);
  if (!fd) return std::nullopt;  // vanished or no medium: not our partition
  auto probe = new_probe(fd->get());
  if (!probe) return std::nullopt;
  const bool partition_entry =
      spec.kind == DeviceSpec::Kind::kPartUuid || spec.kind == DeviceSpec::Kind::kPartLabel;
  if (partition_entry) {
    blkid_probe_enable_superblocks(probe->get(), 0);
    blkid_probe_enable_partitions(probe->get(), 1);
    blkid_probe_set_partitions_flags(probe->get(), BLKID_PARTS_ENTRY_DETAILS);
  } else {
    look_for_filesystems(probe->get(), BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID, kHostFilesystems);
  }
  if (blkid_do_safeprobe(probe->get()) != 0) return std::nullopt;
  return lookup(probe->get(), spec.blkid_tag());
}

}  // namespace

Result<std::optional<std::string>> probe_filesystem_type(int fd, Filesystems among) {
  auto probe = new_probe(fd);
  if (!probe) return std::unexpected(probe.error());
  const char* const* only = among == Filesystems::kHost    ? kHostFilesystems
                            : among == Filesystems::kImage ? kImageFilesystems
                                                           : nullptr;
  look_for_filesystems(probe->get(), BLKID_SUBLKS_TYPE, only);
  int rc = blkid_do_safeprobe(probe->get());
  if (rc == -2) return fail("probe filesystem: more than one filesystem signature found");
  if (rc != 0) return std::optional<std::string>{};
  return lookup(probe->get(), "TYPE");
}

Result<std::vector<std::string>> find_devices(const DeviceSpec& spec) {
  if (spec.kind == DeviceSpec::Kind::kPath) {
    auto present = exists_at(AT_FDCWD, spec.value);
    if (!present) return std::unexpected(present.error());
    if (*present) return std::vector<std::string>{spec.value};
    return std::vector<std::string>{};
  }
  auto sys = Fd::open_dir("/sys/class/block");
  if (!sys) return std::unexpected(sys.error());
  auto names = list_dir(sys->get());
  if (!names) return std::unexpected(names.error());

  std::vector<std::string> found;
  for (const auto& name : *names) {
    // Probing unattached loop devices would only cost time while waiting
    // for the real disk.
    if (is_loop_or_ram_disk(name)) continue;
    std::string device = "/dev/" + name;
    auto value = probe_tag(device, spec);
    if (value && spec.matches(*value)) found.push_back(device);
  }
  return found;
}

}  // namespace imgroot

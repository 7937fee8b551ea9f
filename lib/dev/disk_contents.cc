#include "dev/disk_contents.h"

#include <blkid/blkid.h>

#include <memory>

namespace imgroot {

namespace {

struct ProbeFree {
  void operator()(blkid_probe p) const { blkid_free_probe(p); }
};
using Probe = std::unique_ptr<std::remove_pointer_t<blkid_probe>, ProbeFree>;

std::string lookup(blkid_probe probe, const char* tag) {
  const char* value = nullptr;
  if (blkid_probe_lookup_value(probe, tag, &value, nullptr) == 0 && value) return value;
  return {};
}

// The filesystem in [offset, offset + size) of the disk; nullopt when there
// is none (or libblkid cannot tell).
std::optional<FoundFilesystem> probe_fs(int fd, std::uint64_t offset, std::uint64_t size) {
  Probe probe(blkid_new_probe());
  if (!probe || blkid_probe_set_device(probe.get(), fd, static_cast<blkid_loff_t>(offset),
                                       static_cast<blkid_loff_t>(size)) < 0)
    return std::nullopt;
  blkid_probe_enable_superblocks(probe.get(), 1);
  blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
  if (blkid_do_safeprobe(probe.get()) != 0) return std::nullopt;
  FoundFilesystem fs{lookup(probe.get(), "TYPE"), lookup(probe.get(), "LABEL")};
  if (fs.type.empty()) return std::nullopt;
  return fs;
}

}  // namespace

Result<DiskContents> probe_disk_contents(int fd) {
  Probe probe(blkid_new_probe());
  if (!probe) return fail("probe the disk: libblkid could not allocate a probe");
  if (blkid_probe_set_device(probe.get(), fd, 0, 0) < 0) return fail_errno("probe the disk");
  blkid_probe_enable_partitions(probe.get(), 1);
  blkid_probe_set_partitions_flags(probe.get(), BLKID_PARTS_ENTRY_DETAILS);
  blkid_probe_enable_superblocks(probe.get(), 1);
  blkid_probe_set_superblocks_flags(probe.get(), BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);

  DiskContents out;
  int rc = blkid_do_safeprobe(probe.get());
  if (rc == -2) {
    out.ambiguous = true;
    return out;
  }
  if (rc < 0) return fail_errno("probe the disk");
  if (rc == 1) return out;  // nothing found

  out.table = lookup(probe.get(), "PTTYPE");
  if (out.table.empty()) {
    FoundFilesystem fs{lookup(probe.get(), "TYPE"), lookup(probe.get(), "LABEL")};
    if (!fs.type.empty()) out.whole_disk_fs = fs;
    return out;
  }
  blkid_partlist list = blkid_probe_get_partitions(probe.get());
  const int count = list ? blkid_partlist_numof_partitions(list) : 0;
  for (int i = 0; i < count; ++i) {
    blkid_partition part = blkid_partlist_get_partition(list, i);
    if (!part) continue;
    FoundPartition p;
    p.number = blkid_partition_get_partno(part);
    // libblkid counts in 512-byte sectors whatever the device's sector size.
    p.start = static_cast<std::uint64_t>(blkid_partition_get_start(part)) * 512;
    p.size = static_cast<std::uint64_t>(blkid_partition_get_size(part)) * 512;
    if (const char* name = blkid_partition_get_name(part)) p.name = name;
    p.fs = probe_fs(fd, p.start, p.size);
    out.partitions.push_back(std::move(p));
  }
  return out;
}

}  // namespace imgroot

#include "provision/partitions.h"

#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "system/file.h"
#include "system/sysfs.h"

namespace imgroot::provision {

namespace {

struct KernelPartition {
  std::string name;  // "loop0p1", "sdb1"
  dev_t devno = 0;
  std::uint64_t start = 0, size = 0;  // bytes
};

// The partitions the kernel has for the disk, by number.
Result<std::map<std::size_t, KernelPartition>> kernel_partitions(const std::string& sys) {
  auto dir = Fd::open_dir(sys);
  if (!dir) return std::unexpected(dir.error());
  auto names = list_dir(dir->get());
  if (!names) return std::unexpected(names.error());
  std::map<std::size_t, KernelPartition> out;
  for (const auto& name : *names) {
    const std::uint64_t number = sysfs_number(sys + "/" + name + "/partition");
    if (number == 0) continue;
    auto devno = parse_devno(sysfs_attribute(sys + "/" + name + "/dev"));
    if (!devno) continue;
    KernelPartition p{name, *devno, 0, 0};
    // sysfs counts in 512-byte sectors whatever the device's sector size.
    p.start = sysfs_number(sys + "/" + name + "/start") * 512;
    p.size = sysfs_number(sys + "/" + name + "/size") * 512;
    out[number] = p;
  }
  return out;
}

Status blkpg(const Fd& disk, int op, std::size_t number, const Extent& extent,
             const std::string& what) {
  struct blkpg_partition part;
  std::memset(&part, 0, sizeof part);
  part.start = static_cast<long long>(extent.start);
  part.length = static_cast<long long>(extent.size);
  part.pno = static_cast<int>(number);
  struct blkpg_ioctl_arg arg;
  std::memset(&arg, 0, sizeof arg);
  arg.op = op;
  arg.datalen = sizeof part;
  arg.data = &part;
  if (::ioctl(disk.get(), BLKPG, &arg) < 0) return fail_errno(what);
  return {};
}

// Make the kernel's partitions match 'extents': what its scan found with
// the wrong extent is deleted, what is missing added.
Status match_kernel(const Fd& disk, const std::string& disk_name, const std::string& sys,
                    const std::vector<Extent>& extents) {
  auto found = kernel_partitions(sys);
  if (!found) return std::unexpected(found.error());
  for (std::size_t n = 1; n <= extents.size(); ++n) {
    const Extent& want = extents[n - 1];
    const std::string what = "tell the kernel about partition " + std::to_string(n) + " of " + disk_name;
    auto it = found->find(n);
    if (it != found->end()) {
      if (it->second.start == want.start && it->second.size == want.size) continue;
      if (auto s = blkpg(disk, BLKPG_DEL_PARTITION, n, want, what); !s) return s;
    }
    if (auto s = blkpg(disk, BLKPG_ADD_PARTITION, n, want, what); !s) return s;
  }
  return {};
}

}  // namespace

Result<PartitionNodes> PartitionNodes::expose(const Fd& disk, const std::string& disk_name,
                                              const std::vector<Extent>& extents,
                                              const SystemPaths& paths) {
  // The kernel's own scan: finds the new table where it has a GPT parser,
  // and drops the partitions of the old table either way.
  if (::ioctl(disk.get(), BLKRRPART) < 0) {
    if (errno == EBUSY)
      return fail_errno("re-read the partition table of " + disk_name +
                        " (a partition is in use: was one mounted meanwhile?)");
    return fail_errno("re-read the partition table of " + disk_name);
  }
  const std::string sys = paths.sys_block + "/" + disk_name;
  if (auto s = match_kernel(disk, disk_name, sys, extents); !s) return std::unexpected(s.error());
  auto found = kernel_partitions(sys);
  if (!found) return std::unexpected(found.error());

  PartitionNodes out;
  for (std::size_t n = 1; n <= extents.size(); ++n) {
    auto it = found->find(n);
    if (it == found->end())
      return fail("partition " + std::to_string(n) + " of " + disk_name +
                  " did not appear in " + sys);
    const KernelPartition& p = it->second;
    const std::string standard = paths.dev + "/" + p.name;
    struct stat st {};
    if (::stat(standard.c_str(), &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == p.devno) {
      out.nodes_.push_back(standard);
      continue;
    }
    if (out.private_dir_.empty()) {
      std::string tmpl = paths.node_dir_base + "/.imgroot-provision.XXXXXX";
      if (!::mkdtemp(tmpl.data()))
        return fail_errno("make a directory for partition nodes in " + quoted(paths.node_dir_base));
      out.private_dir_ = tmpl;
    }
    const std::string node = out.private_dir_ + "/" + p.name;
    if (::mknod(node.c_str(), S_IFBLK | 0600, p.devno) < 0)
      return fail_errno("make the device node " + quoted(node));
    out.made_.push_back(p.name);
    out.nodes_.push_back(node);
  }
  return out;
}

PartitionNodes::PartitionNodes(PartitionNodes&& other) noexcept
    : nodes_(std::move(other.nodes_)),
      made_(std::move(other.made_)),
      private_dir_(std::move(other.private_dir_)) {
  other.made_.clear();
  other.private_dir_.clear();
}

PartitionNodes::~PartitionNodes() {
  if (private_dir_.empty()) return;
  // Best effort: a node left behind in the private directory is harmless.
  for (const auto& name : made_) (void)::unlink((private_dir_ + "/" + name).c_str());
  (void)::rmdir(private_dir_.c_str());
}

}  // namespace imgroot::provision

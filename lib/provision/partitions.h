// Making the kernel see the partitions just written, and finding a device
// node for each. A kernel may lack the GPT parser (BLKRRPART then finds
// nothing), and a system may have neither udev nor devtmpfs: the partitions
// are then added with BLKPG and their nodes made with mknod.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "provision/layout.h"
#include "provision/target.h"
#include "system/fd.h"

namespace imgroot::provision {

class PartitionNodes {
 public:
  // Tell the kernel about the new table of 'disk' (an fd of the whole disk,
  // 'disk_name' its name under /sys/block): BLKRRPART, then BLKPG_ADD for
  // each of 'extents' (partition 1, 2, ...) its own scan did not find.
  // Then find each partition's node: /dev/NAME when that is the partition,
  // else one made in a private directory under paths.node_dir_base,
  // removed with this object.
  static Result<PartitionNodes> expose(const Fd& disk, const std::string& disk_name,
                                       const std::vector<Extent>& extents,
                                       const SystemPaths& paths);

  PartitionNodes(PartitionNodes&& other) noexcept;
  PartitionNodes& operator=(PartitionNodes&&) = delete;
  PartitionNodes(const PartitionNodes&) = delete;
  ~PartitionNodes();

  // The device node of partition 'number' (1-based).
  const std::string& node(std::size_t number) const { return nodes_.at(number - 1); }
  // Whether the nodes had to be made (no udev or devtmpfs created them).
  bool made_nodes() const { return !private_dir_.empty(); }

 private:
  PartitionNodes() = default;
  std::vector<std::string> nodes_;
  std::vector<std::string> made_;  // node names in private_dir_
  std::string private_dir_;
};

}  // namespace imgroot::provision

// The mount table (mountinfo format) through libmount, read from a file so
// tests can hand it a fixture instead of /proc/self/mountinfo.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

struct libmnt_table;

namespace imgroot::state {

// One line of the table.
struct MountedFs {
  std::string source;  // as the table has it: "/dev/sdb2", "overlay", ...
  std::string target;
  std::string fstype;
  dev_t devno = 0;  // the st_dev of files on it (mountinfo's major:minor)
};

class MountTable {
 public:
  static Result<MountTable> read(const std::string& mountinfo_path);

  // The source (device) of the topmost filesystem mounted at 'target'.
  std::optional<std::string> source_at(const std::string& target) const;
  // Where the filesystem with this tag (e.g. "LABEL", "hostpart") is mounted;
  // libmount resolves the tag to a device with libblkid.
  std::optional<std::string> target_of_tag(const std::string& tag,
                                           const std::string& value) const;
  // Every mounted filesystem, in the table's order.
  Result<std::vector<MountedFs>> entries() const;

 private:
  struct Free {
    void operator()(libmnt_table* t) const;
  };
  explicit MountTable(libmnt_table* t) : table_(t) {}
  std::unique_ptr<libmnt_table, Free> table_;
};

}  // namespace imgroot::state

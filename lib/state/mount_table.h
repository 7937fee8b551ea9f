// The mount table (mountinfo format) through libmount, read from a file so
// tests can hand it a fixture instead of /proc/self/mountinfo.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/error.h"

struct libmnt_table;

namespace imgroot::state {

class MountTable {
 public:
  static Result<MountTable> read(const std::string& mountinfo_path);

  // The source (device) of the topmost filesystem mounted at 'target'.
  std::optional<std::string> source_at(const std::string& target) const;
  // Where the filesystem with this tag (e.g. "LABEL", "hostpart") is mounted;
  // libmount resolves the tag to a device with libblkid.
  std::optional<std::string> target_of_tag(const std::string& tag,
                                           const std::string& value) const;

 private:
  struct Free {
    void operator()(libmnt_table* t) const;
  };
  explicit MountTable(libmnt_table* t) : table_(t) {}
  std::unique_ptr<libmnt_table, Free> table_;
};

}  // namespace imgroot::state

// mount(2) and friends, with a handle that unmounts unless released.
#pragma once

#include <sys/mount.h>

#include <string>
#include <vector>

#include "base/error.h"

namespace imgroot {

Status mount_fs(const std::string& source, const std::string& target, const std::string& type,
                unsigned long flags = 0, const std::string& data = "");
Status move_mount_to(const std::string& from, const std::string& to);  // MS_MOVE
Status make_private_recursive(const std::string& target);             // MS_REC|MS_PRIVATE
Status unmount(const std::string& target, int flags = 0);

// The mount points of a mountinfo file (field 5, octal escapes decoded), in
// its order: a mount comes after the one it is mounted on. The static init's
// view; the CLI reads the table through libmount (state/mount_table.h).
Result<std::vector<std::string>> read_mount_points(
    const std::string& mountinfo = "/proc/self/mountinfo");

// A mounted filesystem that is unmounted (MNT_DETACH) when the handle goes
// away, unless release() says it is to stay.
class Mount {
 public:
  static Result<Mount> create(const std::string& source, const std::string& target,
                              const std::string& type, unsigned long flags = 0,
                              const std::string& data = "");
  Mount(Mount&& other) noexcept : target_(std::move(other.target_)) { other.target_.clear(); }
  Mount& operator=(Mount&& other) noexcept;
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount();

  const std::string& target() const { return target_; }
  // Keep it mounted; the handle forgets it.
  void release() { target_.clear(); }

 private:
  explicit Mount(std::string target) : target_(std::move(target)) {}
  std::string target_;
};

}  // namespace imgroot

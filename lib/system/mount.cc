#include "system/mount.h"

namespace imgroot {

Status mount_fs(const std::string& source, const std::string& target, const std::string& type,
                unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), type.empty() ? nullptr : type.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) < 0)
    return fail_errno("mount " + quoted(source) + " (" + (type.empty() ? "bind/move" : type) +
                      ") on " + quoted(target));
  return {};
}

Status move_mount_to(const std::string& from, const std::string& to) {
  if (::mount(from.c_str(), to.c_str(), nullptr, MS_MOVE, nullptr) < 0)
    return fail_errno("move mount " + quoted(from) + " to " + quoted(to));
  return {};
}

Status make_private_recursive(const std::string& target) {
  if (::mount(nullptr, target.c_str(), nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    return fail_errno("make " + quoted(target) + " private");
  return {};
}

Status unmount(const std::string& target, int flags) {
  if (::umount2(target.c_str(), flags) < 0) return fail_errno("unmount " + quoted(target));
  return {};
}

Result<Mount> Mount::create(const std::string& source, const std::string& target,
                            const std::string& type, unsigned long flags,
                            const std::string& data) {
  if (auto st = mount_fs(source, target, type, flags, data); !st) return std::unexpected(st.error());
  return Mount(target);
}

Mount& Mount::operator=(Mount&& other) noexcept {
  if (this != &other) {
    if (!target_.empty()) (void)::umount2(target_.c_str(), MNT_DETACH);  // nothing better to do
    target_ = std::move(other.target_);
    other.target_.clear();
  }
  return *this;
}

Mount::~Mount() {
  // Detach rather than fail on a busy mount: the caller is unwinding an error.
  if (!target_.empty()) (void)::umount2(target_.c_str(), MNT_DETACH);
}

}  // namespace imgroot

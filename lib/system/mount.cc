#include "system/mount.h"

#include <algorithm>

#include "system/file.h"
#include "system/module_request.h"

namespace imgroot {

Status mount_fs(const std::string& source, const std::string& target, const std::string& type,
                unsigned long flags, const std::string& data) {
  if (!type.empty()) request_module("fs-" + type);
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

namespace {

// mountinfo writes space, tab, newline and backslash in paths as \ooo.
std::string unescape_octal(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() &&
        field.substr(i + 1, 3).find_first_not_of("01234567") == std::string::npos) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> read_mount_points(const std::string& mountinfo) {
  auto text = read_file(mountinfo);
  if (!text) return std::unexpected(text.error());
  std::vector<std::string> points;
  size_t line_start = 0;
  while (line_start < text->size()) {
    size_t line_end = text->find('\n', line_start);
    if (line_end == std::string::npos) line_end = text->size();
    // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": field 5.
    size_t field_start = line_start;
    for (int field = 1; field < 5 && field_start < line_end; ++field) {
      size_t space = text->find(' ', field_start);
      field_start = space == std::string::npos ? line_end : space + 1;
    }
    size_t field_end = std::min(text->find(' ', field_start), line_end);
    if (field_start < field_end)
      points.push_back(unescape_octal(text->substr(field_start, field_end - field_start)));
    line_start = line_end + 1;
  }
  return points;
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

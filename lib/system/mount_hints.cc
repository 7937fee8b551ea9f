#include "system/mount_hints.h"

namespace imgroot {

std::string with_root_hint(const Error& e, std::string_view who, std::string_view way_out) {
  if (e.code != EPERM && e.code != EACCES) return e.message;
  std::string m = e.message + "; " + std::string(who) + " needs root";
  if (!way_out.empty()) m += " (or " + std::string(way_out) + ")";
  return m;
}

std::string with_mount_hint(const Error& e, std::string_view who, std::string_view way_out) {
  if (e.code == ENOENT || e.code == ENXIO)
    return e.message + "; this machine has no loop devices (modprobe loop" +
           (way_out.empty() ? std::string() : ", or " + std::string(way_out)) + ")";
  if (e.code == ENODEV) return e.message + "; this kernel cannot mount that filesystem type";
  return with_root_hint(e, who, way_out);
}

}  // namespace imgroot

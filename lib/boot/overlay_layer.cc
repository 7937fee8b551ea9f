#include "boot/overlay_layer.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <set>

#include "boot/host_files.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::overlay_layer {

Result<std::string> name_for(int hostpart_dir, const std::string& image) {
  struct statx st {};
  if (::statx(hostpart_dir, image.c_str(), AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &st) < 0)
    return fail_errno("stat " + quoted(image));
  // Inode numbers are reused once a file is deleted; with the birth time
  // the pair names one file. Filesystems without birth times get the inode.
  std::string name = std::to_string(st.stx_ino);
  if (st.stx_mask & STATX_BTIME) name += "-" + std::to_string(st.stx_btime.tv_sec);
  return name;
}

void prune(int hostpart_dir, const std::function<void(const std::string&)>& warn) {
  auto layers = Fd::open_at(hostpart_dir, host_files::kOverlayDir,
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!layers) return;  // never used persistent overlays
  std::set<std::string> in_use;
  for (const char* image : {host_files::kCurrent, host_files::kNew, host_files::kOld,
                            host_files::kBroken}) {
    if (auto name = name_for(hostpart_dir, image)) in_use.insert(*name);
  }
  auto names = list_dir(layers->get());
  if (!names) return warn(names.error().message);
  for (const auto& name : *names) {
    if (in_use.contains(name)) continue;
    if (auto st = remove_tree_at(layers->get(), name); !st)
      warn("cannot delete the overlay layer of an image that is gone, " +
           std::string(host_files::kOverlayDir) + "/" + name + ": " + st.error().message);
  }
}

}  // namespace imgroot::overlay_layer

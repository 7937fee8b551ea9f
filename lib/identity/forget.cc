// imgroot host forget: remove entries from the set.
#include <fcntl.h>
#include <linux/openat2.h>
#include <unistd.h>

#include "base/layout.h"
#include "boot/host_identity.h"
#include "identity/identity.h"
#include "system/file.h"
#include "system/resolve.h"
#include "system/tree.h"

namespace imgroot::identity {

namespace {

// In imgroot/: a directory being forgotten, out of the set in one rename
// before its files are removed.

struct Entry {
  std::string relative;
  Fd parent;  // its directory in imgroot/host
  bool directory = false;
};

// The entry for 'relative' in the set: no symlink is followed to get there.
Result<Entry> find_entry(int host, const std::string& relative) {
  const std::string where = quoted("/" + relative);
  auto parent = open_in_root(host, parent_of(relative), O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  std::optional<struct stat> st;
  if (parent) {
    auto found = stat_at(parent->get(), name_of(relative));
    if (!found) return std::unexpected(std::move(found.error()).context(where));
    st = *found;
  }
  if (!st)
    return fail(where + " is not in the host identity; 'imgroot host show' lists what is "
                "(nothing was forgotten)");
  return Entry{relative, std::move(*parent), S_ISDIR(st->st_mode)};
}

Status remove_entry(int imgroot, const Entry& e) {
  const std::string name = name_of(e.relative);
  if (e.directory) {
    if (auto st = remove_tree_at(imgroot, host_files::kForgetTemp); !st) return st;
    if (::renameat(e.parent.get(), name.c_str(), imgroot, host_files::kForgetTemp) < 0)
      return fail_errno("move " + quoted("/" + e.relative) + " out of the set");
  } else if (auto st = remove_at(e.parent.get(), name); !st) {
    return st;
  }
  if (auto st = fsync_fd(e.parent.get(), "directory of " + quoted("/" + e.relative)); !st) return st;
  return remove_tree_at(imgroot, host_files::kForgetTemp);
}

// Remove the directories above 'relative' that are left empty.
Status prune_parents(int host, const std::string& relative) {
  for (std::string dir = parent_of(relative); dir != "."; dir = parent_of(dir)) {
    auto above = Fd::open_at(host, parent_of(dir), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!above) return std::unexpected(above.error());
    if (::unlinkat(above->get(), name_of(dir).c_str(), AT_REMOVEDIR) < 0) {
      if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT) return {};
      return fail_errno("remove the empty directory " + quoted("/" + dir));
    }
    if (auto st = fsync_fd(above->get(), quoted("/" + parent_of(dir))); !st) return st;
  }
  return {};
}

}  // namespace

Status forget(int hostpart_dir, const std::vector<std::string>& paths) {
  auto host = host_identity::open_identity_dir(hostpart_dir);
  if (!host) return std::unexpected(host.error());
  if (!*host)
    return fail(std::string("nothing is captured: there is no ") +
                host_files::kHostIdentityDir);
  auto imgroot = Fd::open_at(hostpart_dir, host_files::kStateDir, O_RDONLY | O_DIRECTORY);
  if (!imgroot) return std::unexpected(imgroot.error());
  std::vector<Entry> entries;
  for (const auto& p : paths) {
    auto relative = set_path(p);
    if (!relative) return std::unexpected(relative.error());
    auto entry = find_entry((*host)->get(), *relative);
    if (!entry) return std::unexpected(entry.error());
    entries.push_back(std::move(*entry));
  }
  for (const auto& e : entries) {
    // Given twice, or inside a directory forgotten just before.
    auto still = find_entry((*host)->get(), e.relative);
    if (!still) continue;
    if (auto st = remove_entry(imgroot->get(), *still); !st) return st;
    if (auto st = prune_parents((*host)->get(), e.relative); !st) return st;
  }
  return {};
}

}  // namespace imgroot::identity

#include "try/mount_point.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <optional>
#include <string>

#include "system/resolve.h"

namespace imgroot::try_ {

namespace {

// As the kernel's limit on symlinks followed in one lookup.
constexpr int kMaxLinks = 40;

// The target of the symlink 'name' in 'dir'; nullopt when 'name' is not a
// symlink (it does not exist, or a race made it something else).
Result<std::optional<std::string>> link_target(int dir, const std::string& name,
                                               const std::string& shown) {
  char buf[PATH_MAX];
  ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENOENT || errno == EINVAL) return std::nullopt;
    return fail_errno("read the symlink " + quoted(shown) + " in the image");
  }
  if (static_cast<std::size_t>(n) == sizeof buf)
    return fail("read the symlink " + quoted(shown) + " in the image: its target is too long");
  return std::string(buf, static_cast<std::size_t>(n));
}

// Create 'name' in 'dir' (a directory of the root) without following a
// symlink: an empty file to bind on, or a directory.
Status create_leaf(int dir, const std::string& name, bool is_dir, const std::string& shown) {
  if (is_dir) {
    if (::mkdirat(dir, name.c_str(), 0755) < 0 && errno != EEXIST)
      return fail_errno("create " + quoted(shown) + " in the image");
    return {};
  }
  int fd = ::openat(dir, name.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0 && errno != EEXIST) return fail_errno("create " + quoted(shown) + " in the image");
  if (fd >= 0) (void)::close(fd);  // an empty file to bind on
  return {};
}

Result<Fd> mount_point_at(int root, const std::string& path, bool is_dir, int links) {
  std::string prefix;
  for (std::size_t at = 0; at < path.size();) {
    std::size_t end = path.find('/', at);
    if (end == std::string::npos) end = path.size();
    const std::string name = path.substr(at, end - at);
    at = end + 1;
    if (name.empty() || name == ".") continue;
    const std::string parent = prefix.empty() ? "/" : prefix;
    prefix += "/" + name;
    auto here = open_in_root(root, prefix);
    if (here) continue;
    if (here.error().code != ENOENT) return std::unexpected(here.error());
    // The parent resolved a moment ago, inside the root; so does its handle.
    auto dir = open_in_root(root, parent);
    if (!dir) return std::unexpected(dir.error());
    // A dangling symlink: its target, resolved inside the root as the
    // kernel would from its directory, is what gets created.
    auto target = link_target(dir->get(), name, prefix);
    if (!target) return std::unexpected(target.error());
    if (*target) {
      if (links >= kMaxLinks)
        return fail_errno("resolve " + quoted(path) + " in the image", ELOOP);
      // What followed the link in 'path', its slash included.
      const std::string rest = at <= path.size() ? "/" + path.substr(at) : "";
      const std::string next =
          ((*target)->starts_with("/") ? **target : parent + "/" + **target) + rest;
      return mount_point_at(root, next, is_dir, links + 1);
    }
    const bool last = at > path.size();  // not "name/": that one is a directory
    if (auto st = create_leaf(dir->get(), name, is_dir || !last, prefix); !st)
      return std::unexpected(st.error());
  }
  return open_in_root(root, path);
}

}  // namespace

Result<Fd> mount_point(int root, const std::string& path, bool is_dir) {
  return mount_point_at(root, path, is_dir, 0);
}

}  // namespace imgroot::try_

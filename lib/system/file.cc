#include "system/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <utility>

namespace imgroot {

namespace {
// From linux/ext4.h, which Debian's linux-libc-dev does not ship as a uapi header.
constexpr unsigned long kExt4IocCheckpoint = _IOW('f', 43, __u32);
}  // namespace

Result<std::optional<struct stat>> stat_at(int dir, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return st;
  if (errno == ENOENT) return std::nullopt;
  return fail_errno("stat " + quoted(name));
}

Result<bool> exists_at(int dir, const std::string& name) {
  auto st = stat_at(dir, name);
  if (!st) return std::unexpected(st.error());
  return st->has_value();
}

bool same_inode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static Result<std::string> read_all(Fd fd, const std::string& name) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + quoted(name));
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> read_file_at(int dir, const std::string& name) {
  auto fd = Fd::open_at(dir, name, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  return read_all(std::move(*fd), name);
}

Result<std::string> read_file(const std::string& path) { return read_file_at(AT_FDCWD, path); }

Result<std::vector<std::string>> list_dir(int dir) {
  int copy = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return fail_errno("open directory");
  DIR* d = ::fdopendir(copy);
  if (!d) {
    int saved = errno;
    (void)::close(copy);  // fdopendir failed, so the fd is still ours
    return fail_errno("open directory", saved);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  int saved = errno;
  (void)::closedir(d);  // read-only handle
  if (saved) return fail_errno("read directory", saved);
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

// Best effort: carries on past what it cannot remove, and remembers why the
// first thing stayed (0 when everything went).
void remove_contents_on(int dir, dev_t dev, int depth, int& first_errno) {
  auto keep = [&](int e) {
    if (!first_errno) first_errno = e;
  };
  auto names = list_dir(dir);
  if (!names) return keep(errno ? errno : EIO);
  for (const auto& name : *names) {
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno != ENOENT) keep(errno);  // ENOENT: gone meanwhile
      continue;
    }
    if (st.st_dev != dev) {
      keep(EBUSY);  // another filesystem mounted here: not ours to delete
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      // Deeper than any real tree: a loop of bind mounts, or worse. Stop.
      if (depth >= 64) {
        keep(ELOOP);
        continue;
      }
      auto sub = Fd::open_at(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (sub) remove_contents_on(sub->get(), dev, depth + 1, first_errno);
      else keep(errno ? errno : EIO);
      if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) < 0) keep(errno);
    } else if (::unlinkat(dir, name.c_str(), 0) < 0 && errno != ENOENT) {
      keep(errno);
    }
  }
}

}  // namespace

bool remove_contents(int dir) {
  struct stat st {};
  if (::fstat(dir, &st) < 0) return false;
  int first_errno = 0;
  remove_contents_on(dir, st.st_dev, 0, first_errno);
  return first_errno == 0;
}

Status remove_tree_at(int dir, const std::string& name) {
  auto st = stat_at(dir, name);
  if (!st) return std::unexpected(st.error());
  if (!*st) return {};
  if (!S_ISDIR((*st)->st_mode)) return remove_at(dir, name);
  int first_errno = 0;
  if (auto sub = Fd::open_at(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW))
    remove_contents_on(sub->get(), (*st)->st_dev, 1, first_errno);
  else
    return std::unexpected(sub.error());
  if (::unlinkat(dir, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT && !first_errno)
    first_errno = errno;
  if (first_errno) return fail_errno("remove everything in " + quoted(name), first_errno);
  return {};
}

Status rename_at(int dir, const std::string& from, const std::string& to) {
  if (::renameat(dir, from.c_str(), dir, to.c_str()) < 0)
    return fail_errno("rename " + quoted(from) + " -> " + quoted(to));
  return {};
}

Status link_at(int dir, const std::string& from, const std::string& to) {
  if (::linkat(dir, from.c_str(), dir, to.c_str(), 0) < 0)
    return fail_errno("link " + quoted(from) + " -> " + quoted(to));
  return {};
}

Status remove_at(int dir, const std::string& name) {
  if (::unlinkat(dir, name.c_str(), 0) < 0 && errno != ENOENT)
    return fail_errno("remove " + quoted(name));
  return {};
}

Status remove_durably_at(int dir, const std::string& name) {
  if (auto st = remove_at(dir, name); !st) return st;
  return fsync_fd(dir, "directory of " + quoted(name));
}

Status make_dir_at(int dir, const std::string& name, mode_t mode) {
  if (::mkdirat(dir, name.c_str(), mode) < 0 && errno != EEXIST)
    return fail_errno("create directory " + quoted(name));
  return {};
}

Result<Fd> open_or_make_dir_at(int dir, const std::string& name, mode_t mode) {
  if (auto st = make_dir_at(dir, name, mode); !st) return std::unexpected(st.error());
  return Fd::open_at(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
}

Status read_exactly_at(int fd, unsigned char* buf, std::size_t size, std::uint64_t offset,
                       const std::string& what) {
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, buf + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read " + what);
    if (n == 0) return fail("read " + what + ": it ended early (was it changed while read?)");
    got += static_cast<std::size_t>(n);
  }
  return {};
}

Status fsync_fd(int fd, const std::string& what) {
  if (::fsync(fd) < 0) return fail_errno("fsync " + what);
  return {};
}

static Status write_all(int fd, const std::string& content, const std::string& name) {
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write " + quoted(name));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

namespace {

// Whether the file open as 'fd' (readable, 'size' bytes) ends in the middle of a line.
bool ends_torn(int fd, off_t size) {
  if (size == 0) return false;
  char last = '\n';
  return ::pread(fd, &last, 1, size - 1) == 1 && last != '\n';
}

}  // namespace

Status append_line_at(int dir, const std::string& name, const std::string& line) {
  auto before = stat_at(dir, name);
  if (!before) return std::unexpected(before.error());
  auto file = Fd::open_at(dir, name, O_RDWR | O_APPEND | O_CREAT, 0644);
  if (!file) return std::unexpected(file.error());
  struct stat now {};
  if (::fstat(file->get(), &now) < 0) return fail_errno("stat " + quoted(name));
  const std::string data = (ends_torn(file->get(), now.st_size) ? "\n" : "") + line + "\n";
  if (auto w = write_all(file->get(), data, name); !w) return w;
  if (auto s = fsync_fd(file->get(), quoted(name)); !s) return s;
  if (!*before) return fsync_fd(dir, "directory of " + quoted(name));
  return {};
}

namespace {

// Eight random hex digits. getrandom without blocking: early in the boot the
// pool may not be ready, and a guessable name is then still safe to create
// with O_EXCL (the caller tries again on EEXIST).
std::string random_suffix() {
  std::uint32_t bits = 0;
  if (::getrandom(&bits, sizeof bits, GRND_NONBLOCK) != sizeof bits) {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    bits = static_cast<std::uint32_t>(ts.tv_nsec) ^ static_cast<std::uint32_t>(::getpid()) << 16;
  }
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", bits);
  return buf;
}

// A new file ".NAME.XXXXXXXX.tmp" no one else has opened: created here
// (O_EXCL), never through a symlink or hard link planted in 'dir'.
Result<std::pair<Fd, std::string>> create_temp(int dir, const std::string& name, mode_t mode) {
  for (int attempt = 0;; ++attempt) {
    std::string temp = "." + name + "." + random_suffix() + ".tmp";
    int fd = ::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      mode);
    if (fd >= 0) return std::pair{Fd(fd), std::move(temp)};
    if (errno != EEXIST || attempt == 99) return fail_errno("create " + quoted(temp));
  }
}

}  // namespace

Status write_file_atomic_at(int dir, const std::string& name, const std::string& content,
                            mode_t mode) {
  auto created = create_temp(dir, name, mode);
  if (!created) return std::unexpected(created.error());
  auto& [fd, temp] = *created;
  Status st = write_all(fd.get(), content, temp);
  if (st) st = fsync_fd(fd.get(), quoted(temp));
  if (st) st = rename_at(dir, temp, name);
  if (!st) {
    (void)remove_at(dir, temp);  // best effort: the error being returned matters more
    return st;
  }
  return fsync_fd(dir, "directory of " + quoted(name));
}

Status checkpoint_filesystem(int fd) {
  if (::syncfs(fd) < 0) return fail_errno("sync filesystem");
  __u32 flags = 0;
  if (::ioctl(fd, kExt4IocCheckpoint, &flags) == 0) return {};
  // ext4 without a journal: syncfs already wrote everything home.
  if (errno == ENODEV) return {};
  if (errno != ENOTTY && errno != EOPNOTSUPP && errno != EINVAL)
    return fail_errno("checkpoint ext4 journal");
  // Not ext4: a freeze makes the filesystem write its log back home.
  int arg = 0;
  if (::ioctl(fd, FIFREEZE, &arg) < 0) {
    if (errno == EOPNOTSUPP || errno == ENOTTY) return {};  // nothing journaled to push
    return fail_errno("freeze filesystem");
  }
  if (::ioctl(fd, FITHAW, &arg) < 0) return fail_errno("thaw filesystem");
  return {};
}

}  // namespace imgroot

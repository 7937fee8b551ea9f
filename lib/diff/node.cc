#include "diff/node.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>

#include "image/sha256.h"
#include "system/fd.h"

namespace imgroot::diff {

namespace {

constexpr std::size_t kChunk = 128 << 10;

FileType type_of(mode_t mode) {
  if (S_ISDIR(mode)) return FileType::kDir;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  if (S_ISCHR(mode)) return FileType::kChar;
  if (S_ISBLK(mode)) return FileType::kBlock;
  if (S_ISFIFO(mode)) return FileType::kFifo;
  if (S_ISSOCK(mode)) return FileType::kSocket;
  return FileType::kFile;
}

// 'size_hint' is st_size, which a crafted image can set to anything (ext4
// takes a block-based link's size as stored): a hint, capped at PATH_MAX.
Result<std::string> read_link(int dir, const std::string& name, std::uint64_t size_hint) {
  std::string target(std::clamp<std::uint64_t>(size_hint, 64, PATH_MAX) + 1, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dir, name.c_str(), target.data(), target.size());
    if (n < 0) return fail_errno("read the symlink " + quoted(name));
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);  // truncated: the link grew, or st_size lied
  }
}

// A call of the l*xattr family into 'buf', growing it on ERANGE.
template <typename Call>
Result<std::size_t> sized_call(Call call, std::string& buf, const std::string& what) {
  for (;;) {
    ssize_t n = call(buf.data(), buf.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != ERANGE) return fail_errno(what);
    ssize_t need = call(nullptr, 0);
    if (need < 0) return fail_errno(what);
    buf.resize(static_cast<std::size_t>(need) + 64);
  }
}

Result<std::vector<Xattr>> read_xattrs(const std::string& name) {
  std::vector<Xattr> out;
  std::string list(1024, '\0');
  auto listed = sized_call(
      [&](char* b, std::size_t n) { return ::llistxattr(name.c_str(), b, n); }, list,
      "list the xattrs of " + quoted(name));
  if (!listed) {
    if (listed.error().code == ENOTSUP) return out;  // no xattrs on this filesystem
    return std::unexpected(listed.error());
  }
  std::string value(256, '\0');
  for (std::size_t at = 0; at < *listed;) {
    std::string key(list.c_str() + at);
    at += key.size() + 1;
    if (key.empty()) continue;
    auto got = sized_call(
        [&](char* b, std::size_t n) { return ::lgetxattr(name.c_str(), key.c_str(), b, n); },
        value, "read the xattr " + key + " of " + quoted(name));
    if (!got) {
      if (got.error().code == ENODATA) continue;  // removed between list and get
      return std::unexpected(got.error());
    }
    out.push_back({std::move(key), value.substr(0, *got)});
  }
  std::sort(out.begin(), out.end(), [](const Xattr& x, const Xattr& y) { return x.name < y.name; });
  return out;
}

Result<Fd> open_regular(int dir, const std::string& name) {
  return Fd::open_at(dir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
}

// Read up to 'want' bytes at 'offset'; fewer only at the end of the file.
Result<std::size_t> read_some(int fd, unsigned char* buf, std::size_t want, std::uint64_t offset,
                              const std::string& name) {
  std::size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd, buf + got, want - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read " + quoted(name));
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}

}  // namespace

Result<Node> read_node(int dir, const std::string& name) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
    return fail_errno("stat " + quoted(name));
  Node node;
  node.type = type_of(st.st_mode);
  node.perm = st.st_mode & 07777;
  node.uid = st.st_uid;
  node.gid = st.st_gid;
  node.size = static_cast<std::uint64_t>(st.st_size);
  node.ino = st.st_ino;
  node.nlink = st.st_nlink;
  node.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  if (node.type == FileType::kChar || node.type == FileType::kBlock) {
    node.major = ::major(st.st_rdev);
    node.minor = ::minor(st.st_rdev);
  }
  if (node.type == FileType::kSymlink) {
    auto target = read_link(dir, name, node.size);
    if (!target) return std::unexpected(target.error());
    node.target = std::move(*target);
  }
  auto xattrs = read_xattrs(name);
  if (!xattrs) return std::unexpected(xattrs.error());
  node.xattrs = std::move(*xattrs);
  return node;
}

Buffers::Buffers() : a(kChunk), b(kChunk) {}

Result<Fd> open_prefetched(int dir, const std::string& name, std::uint64_t size) {
  auto fd = open_regular(dir, name);
  if (!fd) return fd;
  // Only a hint: a failure changes nothing but the speed. The first chunks
  // only: a large file is read ahead by the kernel as it is read anyway.
  const auto ahead = std::min<std::uint64_t>(size, 4 * kChunk);
  (void)::posix_fadvise(fd->get(), 0, static_cast<off_t>(ahead), POSIX_FADV_WILLNEED);
  return fd;
}

Result<bool> same_content(int fd_a, int fd_b, const std::string& name, std::uint64_t size,
                          Buffers& buffers) {
  // The trees are read-only mounts, so 'size' is what there is to read; a
  // file that ends early (a live directory tree) counts as different.
  for (std::uint64_t at = 0; at < size;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - at));
    auto na = read_some(fd_a, buffers.a.data(), want, at, name);
    if (!na) return std::unexpected(na.error());
    auto nb = read_some(fd_b, buffers.b.data(), want, at, name);
    if (!nb) return std::unexpected(nb.error());
    if (*na != want || *nb != want || std::memcmp(buffers.a.data(), buffers.b.data(), want) != 0)
      return false;
    at += want;
  }
  return true;
}

Result<std::string> sha256_at(int dir, const std::string& name, Buffers& buffers) {
  auto fd = open_regular(dir, name);
  if (!fd) return std::unexpected(fd.error());
  auto sha = Sha256::create();
  if (!sha) return std::unexpected(sha.error());
  for (std::uint64_t at = 0;; at += kChunk) {
    auto n = read_some(fd->get(), buffers.a.data(), kChunk, at, name);
    if (!n) return std::unexpected(n.error());
    sha->update({buffers.a.data(), *n});
    if (*n < kChunk) break;
  }
  return sha->finish_hex();
}

}  // namespace imgroot::diff

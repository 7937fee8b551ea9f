#include "initramfs/cpio.h"

#include <sys/stat.h>

#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

namespace imgroot::initramfs {

namespace {

constexpr size_t kHeaderSize = 110;      // "070701" and 13 fields of 8 hex digits
constexpr size_t kMaxNameSize = 4096;    // the kernel refuses longer names (PATH_MAX)
constexpr const char* kTrailer = "TRAILER!!!";

// "/a//b/" -> "a/b"; nullopt for an empty path or one with "." or "..".
std::optional<std::string> normalize(std::string_view path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(i, end - i);
    if (part == "." || part == "..") return std::nullopt;
    if (!part.empty()) {
      if (!out.empty()) out += '/';
      out += part;
    }
    i = end + 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

void pad4(std::string& out) {
  while (out.size() % 4) out += '\0';
}

struct Header {
  uint32_t ino = 0, mode = 0, nlink = 1, mtime = 0, filesize = 0;
  uint32_t rdev_major = 0, rdev_minor = 0;
};

void append_record(std::string& out, const Header& h, const std::string& name,
                   std::string_view data) {
  char header[kHeaderSize + 1];
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
  // rdevmajor, rdevminor, namesize (with its NUL), check
  std::snprintf(header, sizeof header,
                "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", h.ino, h.mode, 0u,
                0u, h.nlink, h.mtime, h.filesize, 0u, 0u, h.rdev_major, h.rdev_minor,
                static_cast<unsigned>(name.size() + 1), 0u);
  out.append(header, kHeaderSize);
  out += name;
  out += '\0';
  pad4(out);
  out += data;
  pad4(out);
}

}  // namespace

Status CpioArchive::add_parents(const std::string& path) {
  // All checked before any is added: a refused entry adds nothing.
  std::vector<std::string> missing;
  for (std::string dir = parent_of(path); !dir.empty(); dir = parent_of(dir)) {
    auto it = entries_.find(dir);
    if (it == entries_.end()) {
      missing.push_back(dir);
    } else if (!S_ISDIR(it->second.mode)) {
      return fail("add " + quoted("/" + path) + " to the archive: " + quoted("/" + dir) +
                  " is not a directory");
    }
  }
  for (auto& dir : missing) {
    Entry parent;
    parent.mode = S_IFDIR | 0755;
    parent.implicit = true;
    entries_.emplace(std::move(dir), std::move(parent));
  }
  return {};
}

Status CpioArchive::add(std::string_view raw_path, Entry entry) {
  auto path = normalize(raw_path);
  const std::string what = "add " + quoted(std::string(raw_path)) + " to the archive";
  if (!path) return fail(what + ": not a path below the root");
  // The kernel reads names (and symlink targets) as C strings.
  if (path->find('\0') != std::string::npos) return fail(what + ": a NUL byte in the name");
  if (S_ISLNK(entry.mode) && entry.data.find('\0') != std::string::npos)
    return fail(what + ": a NUL byte in the symlink target");
  // The kernel stops unpacking at a record with this name; an implied parent
  // directory of that name would end the archive just the same.
  if (path->substr(0, path->find('/')) == kTrailer)
    return fail(what + ": " + quoted(kTrailer) + " names newc's end-of-archive record");
  if (path->size() + 1 > kMaxNameSize) return fail(what + ": name too long");
  if (entry.data.size() > std::numeric_limits<uint32_t>::max())
    return fail(what + ": larger than newc's 4 GiB limit");

  auto it = entries_.find(*path);
  if (it != entries_.end()) {
    Entry& old = it->second;
    bool both_dirs = S_ISDIR(old.mode) && S_ISDIR(entry.mode);
    // A directory created as someone's parent takes the mode asked for
    // later; anything else added twice must be the same thing.
    if (both_dirs && old.implicit) {
      old = std::move(entry);
      return {};
    }
    if (both_dirs && entry.implicit) return {};
    if (old.mode == entry.mode && old.data == entry.data && old.rdev_major == entry.rdev_major &&
        old.rdev_minor == entry.rdev_minor)
      return {};
    return fail(what + ": a different entry already has that path");
  }
  if (auto st = add_parents(*path); !st) return st;
  entries_.emplace(std::move(*path), std::move(entry));
  return {};
}

Status CpioArchive::add_directory(std::string_view path, mode_t perm) {
  Entry entry;
  entry.mode = S_IFDIR | (perm & 07777);
  return add(path, std::move(entry));
}

Status CpioArchive::add_file(std::string_view path, std::string content, mode_t perm) {
  Entry entry;
  entry.mode = S_IFREG | (perm & 07777);
  entry.data = std::move(content);
  return add(path, std::move(entry));
}

Status CpioArchive::add_symlink(std::string_view path, std::string target) {
  if (target.empty()) return fail("add " + quoted(std::string(path)) + ": empty symlink target");
  Entry entry;
  entry.mode = S_IFLNK | 0777;
  entry.data = std::move(target);
  return add(path, std::move(entry));
}

Status CpioArchive::add_char_device(std::string_view path, mode_t perm, unsigned major,
                                    unsigned minor) {
  Entry entry;
  entry.mode = S_IFCHR | (perm & 07777);
  entry.rdev_major = major;
  entry.rdev_minor = minor;
  return add(path, std::move(entry));
}

Result<std::string> CpioArchive::serialize(uint32_t mtime) const {
  std::string out;
  size_t total = 0;
  for (const auto& [path, entry] : entries_)
    total += kHeaderSize + path.size() + entry.data.size() + 8;
  out.reserve(total + kHeaderSize + 16);

  uint32_t ino = 0;
  for (const auto& [path, entry] : entries_) {
    if (ino == std::numeric_limits<uint32_t>::max()) return fail("write archive: too many entries");
    Header h{.ino = ++ino,
             .mode = static_cast<uint32_t>(entry.mode),
             .nlink = S_ISDIR(entry.mode) ? 2u : 1u,
             .mtime = mtime,
             .filesize = static_cast<uint32_t>(entry.data.size()),
             .rdev_major = entry.rdev_major,
             .rdev_minor = entry.rdev_minor};
    append_record(out, h, path, entry.data);
  }
  append_record(out, Header{}, kTrailer, {});
  return out;
}

}  // namespace imgroot::initramfs

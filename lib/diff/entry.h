// What `imgroot diff` compares about a filesystem entry, and what it reports
// about one path: added, removed, or changed in named aspects.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace imgroot::diff {

enum class FileType : std::uint8_t { kFile, kDir, kSymlink, kChar, kBlock, kFifo, kSocket };

// "file", "dir", "symlink", "char", "block", "fifo", "socket".
const char* type_name(FileType type);

struct Xattr {
  std::string name;
  std::string value;
  friend bool operator==(const Xattr&, const Xattr&) = default;
};

// One entry as lstat and friends see it (never following a symlink).
struct Node {
  FileType type = FileType::kFile;
  mode_t perm = 0;  // the 07777 bits
  uid_t uid = 0;
  gid_t gid = 0;
  std::uint64_t size = 0;
  std::uint64_t ino = 0;
  std::uint64_t nlink = 1;
  std::int64_t mtime_ns = 0;
  unsigned major = 0, minor = 0;  // char and block devices
  std::string target;             // symlinks
  std::vector<Xattr> xattrs;      // sorted by name
};

// The aspects of a changed entry, in the order reports list them.
enum class Aspect : std::uint8_t {
  kType, kContent, kSize, kMode, kOwner, kTarget, kDevice, kXattrs, kLinks
};
inline constexpr std::size_t kAspectCount = 9;
// "type", "content", "size", "mode", "owner", "target", "device", "xattrs", "links".
const char* aspect_name(Aspect aspect);

enum class Kind : std::uint8_t { kAdded, kRemoved, kChanged };

// A name added to ('+'), removed from ('-') or changed in ('~', xattrs only)
// a set: the xattr names of an entry, or the other names of its inode.
using SetChange = std::pair<char, std::string>;

struct Entry {
  Kind kind = Kind::kChanged;
  std::string path;        // "/etc/hosts"; "/" for the root
  std::optional<Node> a;   // removed and changed entries
  std::optional<Node> b;   // added and changed entries
  unsigned aspects = 0;    // bit (1 << Aspect) for each aspect that differs
  std::string sha256_a, sha256_b;  // when the content differs
  std::vector<SetChange> xattrs;   // when the xattrs differ
  std::vector<SetChange> links;    // when the hard-link group differs

  bool has(Aspect aspect) const { return aspects & (1u << static_cast<unsigned>(aspect)); }
  void add(Aspect aspect) { aspects |= 1u << static_cast<unsigned>(aspect); }
};

struct Summary {
  std::uint64_t added = 0, removed = 0, changed = 0;
  std::array<std::uint64_t, kAspectCount> by_aspect{};  // changed entries per aspect
  std::uint64_t compared = 0;  // paths present in both trees that were compared
};

}  // namespace imgroot::diff

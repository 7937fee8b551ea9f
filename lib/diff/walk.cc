#include "diff/walk.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "diff/links.h"
#include "diff/node.h"
#include "diff/side_thread.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::diff {

namespace {

using Side = LinkGroups::Side;

const char* side_name(Side side) { return side == Side::kA ? "A" : "B"; }

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// One name of a directory, as it is in A, in B, or both.
struct Item {
  explicit Item(std::string n) : name(std::move(n)) {}
  std::string name;
  std::optional<Node> a, b;
  bool content_differs = false;
  std::string sha256_a, sha256_b;
};

// Puts the working directory back when the walk ends, however it ends.
class CwdGuard {
 public:
  CwdGuard() : fd_(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) {}
  ~CwdGuard() {
    if (fd_ >= 0) {
      (void)::fchdir(fd_);  // nowhere to report a failure while unwinding
      (void)::close(fd_);
    }
  }
  CwdGuard(const CwdGuard&) = delete;
  CwdGuard& operator=(const CwdGuard&) = delete;

 private:
  int fd_;
};

std::vector<SetChange> xattr_changes(const std::vector<Xattr>& a, const std::vector<Xattr>& b) {
  std::vector<SetChange> out;
  auto ia = a.begin(), ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->name < ib->name)) {
      out.emplace_back('-', (ia++)->name);
    } else if (ia == a.end() || ib->name < ia->name) {
      out.emplace_back('+', (ib++)->name);
    } else {
      if (ia->value != ib->value) out.emplace_back('~', ia->name);
      ++ia, ++ib;
    }
  }
  return out;
}

using Named = std::vector<std::pair<std::string, Node>>;

std::unexpected<Error> in_tree(Side side, const std::string& path, Error e) {
  return std::unexpected(std::move(e).context(std::string(side_name(side)) + " " + quoted(path)));
}

Result<Fd> open_subdir(int dir, const std::string& name, Side side, const std::string& path) {
  auto fd = Fd::open_at(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!fd) return in_tree(side, path, std::move(fd.error()));
  return fd;
}

class Walker {
 public:
  Walker(const Options& options, Sink& sink) : options_(options), sink_(sink) {}

  Status root(int a, int b);
  Status emit_link_changes();
  const Summary& summary() const { return summary_; }

 private:
  Result<Named> read_dir(int fd, const std::string& dir, Side side) const;
  Status pair_dirs(int a, int b, const std::string& dir);
  Status compare_contents(int a, int b, const std::string& dir, std::vector<Item>& items);
  Status compare_pair(int a, int b, const std::string& path, Item& item);
  Status only_in(Side side, int parent, const std::string& name, const std::string& path,
                 Node node);
  Status one_side(int fd, const std::string& dir, Side side);
  Status emit(const Entry& entry);

  const Options& options_;
  Sink& sink_;
  Summary summary_;
  LinkGroups links_;
  Buffers buffers_;
  SideThread side_b_;
};

Status Walker::emit(const Entry& entry) {
  switch (entry.kind) {
    case Kind::kAdded: ++summary_.added; break;
    case Kind::kRemoved: ++summary_.removed; break;
    case Kind::kChanged: ++summary_.changed; break;
  }
  for (std::size_t i = 0; i < kAspectCount; ++i)
    if (entry.aspects & (1u << i)) ++summary_.by_aspect[i];
  return sink_.entry(entry);
}

// The entries of one directory that are not excluded, sorted by name.
Result<Named> Walker::read_dir(int fd, const std::string& dir, Side side) const {
  auto names = list_dir(fd);
  if (!names) return in_tree(side, dir, std::move(names.error()));
  if (::fchdir(fd) < 0) return in_tree(side, dir, Error::from_errno("enter the directory"));
  Named out;
  out.reserve(names->size());
  for (auto& name : *names) {
    const std::string path = join(dir, name);
    if (!options_.excludes.empty() && excluded(options_.excludes, path, name)) continue;
    auto node = read_node(fd, name);
    if (!node) return in_tree(side, path, std::move(node.error()));
    out.emplace_back(std::move(name), std::move(*node));
  }
  return out;
}

// Regular files in both trees: a different size differs; an equal size is
// read and compared (or, with trust_mtime, an equal mtime is trusted).
// Files are read in the order of A's inode numbers, which is close to the
// order of their blocks on disk, in batches whose reads are all asked for
// before the first is compared. Changed files get both SHA-256s.
Status Walker::compare_contents(int a, int b, const std::string& dir, std::vector<Item>& items) {
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    if (!it.a || !it.b || it.a->type != FileType::kFile || it.b->type != FileType::kFile) continue;
    const bool trusted = options_.trust_mtime && it.a->mtime_ns == it.b->mtime_ns;
    if (it.a->size != it.b->size || (it.a->size > 0 && !trusted)) todo.push_back(i);
  }
  std::sort(todo.begin(), todo.end(),
            [&](std::size_t x, std::size_t y) { return items[x].a->ino < items[y].a->ino; });
  constexpr std::size_t kBatch = 64;
  std::vector<std::pair<Fd, Fd>> open;
  for (std::size_t first = 0; first < todo.size(); first += kBatch) {
    const std::size_t last = std::min(todo.size(), first + kBatch);
    open.clear();
    for (std::size_t k = first; k < last; ++k) {
      const Item& it = items[todo[k]];
      if (it.a->size != it.b->size) {
        open.emplace_back();
        continue;
      }
      auto fa = open_prefetched(a, it.name, it.a->size);
      if (!fa) return in_tree(Side::kA, join(dir, it.name), std::move(fa.error()));
      auto fb = open_prefetched(b, it.name, it.b->size);
      if (!fb) return in_tree(Side::kB, join(dir, it.name), std::move(fb.error()));
      open.emplace_back(std::move(*fa), std::move(*fb));
    }
    for (std::size_t k = first; k < last; ++k) {
      Item& it = items[todo[k]];
      const std::string path = join(dir, it.name);
      auto& [fa, fb] = open[k - first];
      bool differs = !fa.valid();
      if (!differs) {
        auto same = same_content(fa.get(), fb.get(), it.name, it.a->size, buffers_);
        if (!same) return std::unexpected(std::move(same.error()).context(quoted(path)));
        differs = !*same;
        fa = Fd();
        fb = Fd();
      }
      if (!differs) continue;
      it.content_differs = true;
      auto sa = sha256_at(a, it.name, buffers_);
      if (!sa) return in_tree(Side::kA, path, std::move(sa.error()));
      auto sb = sha256_at(b, it.name, buffers_);
      if (!sb) return in_tree(Side::kB, path, std::move(sb.error()));
      it.sha256_a = std::move(*sa);
      it.sha256_b = std::move(*sb);
    }
  }
  return {};
}

Status Walker::pair_dirs(int a, int b, const std::string& dir) {
  // B is read on its own thread while A is read here.
  Result<Named> in_b;
  side_b_.start([&] { in_b = read_dir(b, dir, Side::kB); });
  auto in_a = read_dir(a, dir, Side::kA);
  side_b_.wait();
  if (!in_a) return std::unexpected(in_a.error());
  if (!in_b) return std::unexpected(in_b.error());
  std::vector<Item> items;
  items.reserve(std::max(in_a->size(), in_b->size()));
  auto ia = in_a->begin(), ib = in_b->begin();
  while (ia != in_a->end() || ib != in_b->end()) {
    if (ib == in_b->end() || (ia != in_a->end() && ia->first < ib->first)) {
      items.emplace_back(std::move(ia->first)).a = std::move(ia->second);
      ++ia;
    } else if (ia == in_a->end() || ib->first < ia->first) {
      items.emplace_back(std::move(ib->first)).b = std::move(ib->second);
      ++ib;
    } else {
      Item& item = items.emplace_back(std::move(ia->first));
      item.a = std::move(ia->second);
      item.b = std::move(ib->second);
      ++ia, ++ib;
    }
  }
  in_a->clear();
  in_b->clear();
  if (auto st = compare_contents(a, b, dir, items); !st) return st;
  for (auto& item : items) {
    if (auto st = compare_pair(a, b, join(dir, item.name), item); !st) return st;
  }
  return {};
}

// An entry only one tree has, and everything under it: removed or added.
Status Walker::only_in(Side side, int parent, const std::string& name, const std::string& path,
                       Node node) {
  links_.note(side, path, node);
  const bool is_dir = node.type == FileType::kDir;
  Entry e;
  e.kind = side == Side::kA ? Kind::kRemoved : Kind::kAdded;
  e.path = path;
  (side == Side::kA ? e.a : e.b) = std::move(node);
  if (auto st = emit(e); !st) return st;
  if (!is_dir) return {};
  auto sub = open_subdir(parent, name, side, path);
  if (!sub) return std::unexpected(sub.error());
  return one_side(sub->get(), path, side);
}

Status Walker::one_side(int fd, const std::string& dir, Side side) {
  auto entries = read_dir(fd, dir, side);
  if (!entries) return std::unexpected(entries.error());
  for (auto& [name, node] : *entries) {
    if (auto st = only_in(side, fd, name, join(dir, name), std::move(node)); !st) return st;
  }
  return {};
}

// The aspects in which two nodes of the same path differ.
Entry compare_nodes(const std::string& path, Item& item) {
  const Node& na = *item.a;
  const Node& nb = *item.b;
  Entry e;
  e.kind = Kind::kChanged;
  e.path = path;
  if (na.type != nb.type) {
    e.add(Aspect::kType);
    return e;
  }
  if (item.content_differs) {
    e.add(Aspect::kContent);
    e.sha256_a = std::move(item.sha256_a);
    e.sha256_b = std::move(item.sha256_b);
  }
  if (na.type == FileType::kFile && na.size != nb.size) e.add(Aspect::kSize);
  if (na.perm != nb.perm) e.add(Aspect::kMode);
  if (na.uid != nb.uid || na.gid != nb.gid) e.add(Aspect::kOwner);
  if (na.type == FileType::kSymlink && na.target != nb.target) e.add(Aspect::kTarget);
  if ((na.type == FileType::kChar || na.type == FileType::kBlock) &&
      (na.major != nb.major || na.minor != nb.minor))
    e.add(Aspect::kDevice);
  if (na.xattrs != nb.xattrs) {
    e.add(Aspect::kXattrs);
    e.xattrs = xattr_changes(na.xattrs, nb.xattrs);
  }
  return e;
}

Status Walker::compare_pair(int a, int b, const std::string& path, Item& item) {
  if (!item.b) return only_in(Side::kA, a, item.name, path, std::move(*item.a));
  if (!item.a) return only_in(Side::kB, b, item.name, path, std::move(*item.b));

  ++summary_.compared;
  links_.note(Side::kA, path, *item.a);
  links_.note(Side::kB, path, *item.b);
  Entry e = compare_nodes(path, item);
  const bool dir_a = item.a->type == FileType::kDir, dir_b = item.b->type == FileType::kDir;
  if (item.a->type == item.b->type && !dir_a) links_.pair(path, *item.a, *item.b, e.aspects != 0);
  if (e.aspects) {
    e.a = std::move(*item.a);
    e.b = std::move(*item.b);
    if (auto st = emit(e); !st) return st;
  }
  if (dir_a && dir_b) {
    auto sub_a = open_subdir(a, item.name, Side::kA, path);
    if (!sub_a) return std::unexpected(sub_a.error());
    auto sub_b = open_subdir(b, item.name, Side::kB, path);
    if (!sub_b) return std::unexpected(sub_b.error());
    return pair_dirs(sub_a->get(), sub_b->get(), path);
  }
  // A type change: what was under a directory is removed, or added.
  for (Side side : {Side::kA, Side::kB}) {
    if (!(side == Side::kA ? dir_a : dir_b)) continue;
    auto sub = open_subdir(side == Side::kA ? a : b, item.name, side, path);
    if (!sub) return std::unexpected(sub.error());
    if (auto st = one_side(sub->get(), path, side); !st) return st;
  }
  return {};
}

Status Walker::root(int a, int b) {
  Item item("/");
  for (Side side : {Side::kA, Side::kB}) {
    const int fd = side == Side::kA ? a : b;
    if (::fchdir(fd) < 0) return in_tree(side, "/", Error::from_errno("enter the directory"));
    auto node = read_node(fd, ".");
    if (!node) return in_tree(side, "/", std::move(node.error()));
    (side == Side::kA ? item.a : item.b) = std::move(*node);
  }
  ++summary_.compared;
  Entry e = compare_nodes("/", item);
  if (e.aspects) {
    e.a = std::move(*item.a);
    e.b = std::move(*item.b);
    if (auto st = emit(e); !st) return st;
  }
  return pair_dirs(a, b, "/");
}

Status Walker::emit_link_changes() {
  auto changes = links_.changes();
  for (const auto& e : changes.entries) {
    ++summary_.by_aspect[static_cast<std::size_t>(Aspect::kLinks)];
    if (auto st = sink_.entry(e); !st) return st;
  }
  summary_.changed += changes.newly_changed;
  return {};
}

}  // namespace

bool excluded(const std::vector<std::string>& globs, const std::string& path,
              const std::string& name) {
  for (const auto& glob : globs) {
    if (glob.find('/') != std::string::npos) {
      if (::fnmatch(glob.c_str(), path.c_str(), FNM_PATHNAME) == 0) return true;
    } else if (::fnmatch(glob.c_str(), name.c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

Result<Summary> compare_trees(int a_root, int b_root, const Options& options, Sink& sink) {
  CwdGuard cwd;
  Walker walker(options, sink);
  if (auto st = walker.root(a_root, b_root); !st) return std::unexpected(st.error());
  if (auto st = walker.emit_link_changes(); !st) return std::unexpected(st.error());
  return walker.summary();
}

}  // namespace imgroot::diff

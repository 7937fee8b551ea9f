#include "system/tree.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "system/fd.h"
#include "system/file.h"

namespace imgroot {

namespace {

Status walk_below(int dir, const std::string& prefix, const TreeVisitor& visit) {
  auto names = list_dir(dir);
  if (!names) return std::unexpected(std::move(names.error()).context(quoted(prefix.empty() ? "." : prefix)));
  for (const auto& name : *names) {
    auto st = stat_at(dir, name);
    if (!st) return std::unexpected(st.error());
    if (!*st) continue;  // gone since the listing
    TreeEntry entry{prefix.empty() ? name : prefix + "/" + name, dir, name, **st};
    auto descend = visit(entry);
    if (!descend) return std::unexpected(descend.error());
    if (!*descend || !S_ISDIR(entry.st.st_mode)) continue;
    auto sub = Fd::open_at(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!sub) return std::unexpected(sub.error());
    if (auto st2 = walk_below(sub->get(), entry.path, visit); !st2) return st2;
  }
  return {};
}

Status copy_bytes(int in, int out, off_t size, const std::string& name) {
  off_t done = 0;
  while (done < size) {
    ssize_t n = ::sendfile(out, in, nullptr, static_cast<size_t>(size - done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("copy " + quoted(name));
    }
    if (n == 0) break;  // the file shrank meanwhile: copy what it holds
    done += n;
  }
  return {};
}

// The temporary file: content, then owner (which clears set-id bits), then
// mode, then times.
Status write_file_copy(int from_dir, const std::string& from_name, const struct stat& st,
                       int to_dir, const std::string& temp, Durability durability) {
  auto in = Fd::open_at(from_dir, from_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!in) return std::unexpected(in.error());
  struct stat now {};
  if (::fstat(in->get(), &now) < 0) return fail_errno("stat " + quoted(from_name));
  if (!S_ISREG(now.st_mode)) return fail(quoted(from_name) + " is no longer a regular file");
  // Owner and mode come from 'st': they must be this file's, not those of
  // a file that someone renamed away since (with theirs in its place).
  if (!same_inode(now, st))
    return fail(quoted(from_name) + " changed while it was copied (another file has its name "
                "now); nothing was copied");
  auto out = Fd::open_at(to_dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
  if (!out) return std::unexpected(out.error());
  if (auto c = copy_bytes(in->get(), out->get(), now.st_size, from_name); !c) return c;
  if (::fchown(out->get(), st.st_uid, st.st_gid) < 0) return fail_errno("chown " + quoted(temp));
  if (::fchmod(out->get(), st.st_mode & 07777) < 0) return fail_errno("chmod " + quoted(temp));
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(out->get(), times) < 0) return fail_errno("set times of " + quoted(temp));
  if (durability == Durability::kFsync) return fsync_fd(out->get(), quoted(temp));
  return {};
}

Status write_link_copy(int from_dir, const std::string& from_name, const struct stat& st,
                       int to_dir, const std::string& temp) {
  auto target = read_link_at(from_dir, from_name);
  if (!target) return std::unexpected(target.error());
  if (::symlinkat(target->c_str(), to_dir, temp.c_str()) < 0)
    return fail_errno("create symlink " + quoted(temp));
  if (::fchownat(to_dir, temp.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return fail_errno("chown " + quoted(temp));
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(to_dir, temp.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0)
    return fail_errno("set times of " + quoted(temp));
  // A symlink's own data is written with the directory that holds it, which
  // the caller fsyncs after the rename.
  return {};
}

// Up to 'size' bytes into 'buf'; fewer only at the end of the file.
Result<size_t> read_piece(int fd, char* buf, size_t size, const std::string& name) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, buf + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read " + quoted(name));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

// Two files' bytes compared a piece at a time: PID 1 compares identity
// files at every boot and must not need memory in proportion to them.
Result<bool> same_bytes(int a_dir, const std::string& a_name, int b_dir,
                        const std::string& b_name) {
  constexpr size_t kPiece = 64 * 1024;
  auto a = Fd::open_at(a_dir, a_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!a) return std::unexpected(a.error());
  auto b = Fd::open_at(b_dir, b_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!b) return std::unexpected(b.error());
  std::vector<char> pa(kPiece), pb(kPiece);
  for (;;) {
    auto na = read_piece(a->get(), pa.data(), kPiece, a_name);
    if (!na) return std::unexpected(na.error());
    auto nb = read_piece(b->get(), pb.data(), kPiece, b_name);
    if (!nb) return std::unexpected(nb.error());
    if (*na != *nb || std::memcmp(pa.data(), pb.data(), *na) != 0) return false;
    if (*na < kPiece) return true;
  }
}

Result<bool> same_content(int a_dir, const std::string& a_name, const struct stat& a, int b_dir,
                          const std::string& b_name, const struct stat& b) {
  if (S_ISLNK(a.st_mode)) {
    auto ta = read_link_at(a_dir, a_name);
    if (!ta) return std::unexpected(ta.error());
    auto tb = read_link_at(b_dir, b_name);
    if (!tb) return std::unexpected(tb.error());
    return *ta == *tb;
  }
  if (!S_ISREG(a.st_mode)) return true;  // a directory's content is its entries
  if (a.st_size != b.st_size) return false;
  return same_bytes(a_dir, a_name, b_dir, b_name);
}

}  // namespace

Result<std::string> read_link_at(int dir, const std::string& name) {
  std::string target(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dir, name.c_str(), target.data(), target.size());
    if (n < 0) return fail_errno("read symlink " + quoted(name));
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

Status walk_tree(int dir, const TreeVisitor& visit) { return walk_below(dir, "", visit); }

std::string file_type_name(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFLNK: return "a symlink";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    default: return "of an unknown type";
  }
}

Status copy_entry(int from_dir, const std::string& from_name, const struct stat& st, int to_dir,
                  const std::string& to_name, Durability durability) {
  if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
    return fail(quoted(from_name) + " is " + file_type_name(st.st_mode) +
                "; only regular files and symlinks are copied");
  const std::string temp = "." + to_name + ".imgroot-tmp";
  // A temporary left by a crash of an earlier copy.
  if (auto st_rm = remove_at(to_dir, temp); !st_rm) return st_rm;
  Status done = S_ISREG(st.st_mode)
                    ? write_file_copy(from_dir, from_name, st, to_dir, temp, durability)
                    : write_link_copy(from_dir, from_name, st, to_dir, temp);
  if (done) done = rename_at(to_dir, temp, to_name);
  if (!done) (void)remove_at(to_dir, temp);  // best effort: the error being returned matters more
  return done;
}

Status make_dir_like(int dir, const std::string& name, const struct stat& st) {
  // Private until its owner and mode are set: it may be made for keys.
  if (::mkdirat(dir, name.c_str(), 0700) < 0) return fail_errno("create directory " + quoted(name));
  auto fd = Fd::open_at(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!fd) return std::unexpected(fd.error());
  if (::fchown(fd->get(), st.st_uid, st.st_gid) < 0) return fail_errno("chown " + quoted(name));
  if (::fchmod(fd->get(), st.st_mode & 07777) < 0) return fail_errno("chmod " + quoted(name));
  return {};
}

Result<Difference> compare_entry(int a_dir, const std::string& a_name, const struct stat& a,
                                 int b_dir, const std::string& b_name) {
  Difference d;
  auto b = stat_at(b_dir, b_name);
  if (!b) return std::unexpected(b.error());
  if (!*b) {
    d.missing = true;
    return d;
  }
  const struct stat& bs = **b;
  d.type = (a.st_mode & S_IFMT) != (bs.st_mode & S_IFMT);
  d.mode = (a.st_mode & 07777) != (bs.st_mode & 07777);
  d.owner = a.st_uid != bs.st_uid || a.st_gid != bs.st_gid;
  d.mtime = a.st_mtim.tv_sec != bs.st_mtim.tv_sec || a.st_mtim.tv_nsec != bs.st_mtim.tv_nsec;
  if (d.type) {
    d.content = true;
    return d;
  }
  auto same = same_content(a_dir, a_name, a, b_dir, b_name, bs);
  if (!same) return std::unexpected(same.error());
  d.content = !*same;
  return d;
}

}  // namespace imgroot

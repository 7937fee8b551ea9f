// imgroot host capture: copy files of a root into imgroot/host, durably, all
// or nothing.
#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>

#include <algorithm>

#include "base/bytes.h"
#include "base/layout.h"
#include "boot/host_owners.h"
#include "identity/identity.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/accounts.h"
#include "system/resolve.h"
#include "system/tree.h"

namespace imgroot::identity {

namespace {

// In imgroot/: the capture in progress, renamed into imgroot/host entry by
// entry once complete. A leftover from a killed capture is removed by the
// next one.
// Identity files are small, and the init compares each with the root's at
// every boot.
constexpr off_t kMaxFileSize = off_t{4} << 20;

// A path to capture, found in the root.
struct Source {
  std::string relative;  // "etc/ssh"
  Fd parent;             // its directory in the root
  struct stat st {};
};

// Sorted, without duplicates and without paths inside another one given.
std::vector<std::string> outermost(std::vector<std::string> relatives) {
  std::sort(relatives.begin(), relatives.end());
  std::vector<std::string> out;
  for (auto& r : relatives)
    if (out.empty() || (r != out.back() && !r.starts_with(out.back() + "/")))
      out.push_back(std::move(r));
  return out;
}

class Capturer {
 public:
  Capturer(int root, std::string root_name, int host_dir, int staging,
           const struct stat& hostpart, const Accounts& accounts)
      : root_(root), root_name_(std::move(root_name)), host_(host_dir), staging_(staging),
        hostpart_(hostpart), accounts_(accounts) {}

  // The owner names of what was staged, and what has none.
  const host_owners::Owners& owners() const { return owners_; }
  const std::vector<std::string>& notes() const { return notes_; }

  Result<Source> find(const std::string& relative) const {
    auto parent = open_in_root(root_, parent_of(relative), O_RDONLY | O_DIRECTORY);
    if (!parent && parent.error().code != ENOENT && parent.error().code != ENOTDIR)
      return std::unexpected(std::move(parent.error()).context(where(relative)));
    std::optional<struct stat> st;
    if (parent) {
      auto found = stat_at(parent->get(), name_of(relative));
      if (!found) return std::unexpected(std::move(found.error()).context(where(relative)));
      st = *found;
    }
    if (!st) return fail(where(relative) + " does not exist; check the path (nothing was captured)");
    if (auto ok = check_type(relative, *st); !ok) return std::unexpected(ok.error());
    return Source{relative, std::move(*parent), *st};
  }

  // Copy one source into the staging directory as 'staged', fsynced.
  Result<int> stage(const Source& s, const std::string& staged) {
    const std::string name = name_of(s.relative);
    name_owner(s.relative, s.st);
    if (!S_ISDIR(s.st.st_mode)) {
      auto copied = copy_entry(s.parent.get(), name, s.st, staging_, staged, Durability::kFsync);
      if (!copied) return std::unexpected(std::move(copied.error()).context(where(s.relative)));
      return 1;
    }
    auto source = Fd::open_at(s.parent.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!source) return std::unexpected(std::move(source.error()).context(where(s.relative)));
    if (auto made = make_staged_dir(staging_, staged, s.relative, s.st); !made)
      return std::unexpected(made.error());
    std::vector<std::string> dirs{staged};
    int files = 0;
    auto walked = walk_tree(source->get(), [&](const TreeEntry& e) -> Result<bool> {
      const std::string relative = s.relative + "/" + e.path;
      if (auto ok = check_type(relative, e.st); !ok) return std::unexpected(ok.error());
      name_owner(relative, e.st);
      const std::string to_path = staged + "/" + parent_of(e.path);
      auto to = Fd::open_at(staging_, to_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!to) return std::unexpected(to.error());
      if (S_ISDIR(e.st.st_mode)) {
        if (auto made = make_staged_dir(to->get(), e.name, relative, e.st); !made)
          return std::unexpected(made.error());
        dirs.push_back(staged + "/" + e.path);
        return true;
      }
      auto copied = copy_entry(e.dir, e.name, e.st, to->get(), e.name, Durability::kFsync);
      if (!copied) return std::unexpected(std::move(copied.error()).context(where(relative)));
      ++files;
      return true;
    });
    if (!walked) return std::unexpected(walked.error());
    // The files are fsynced; their names are in these directories.
    for (const auto& dir : dirs) {
      auto fd = Fd::open_at(staging_, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!fd) return std::unexpected(fd.error());
      if (auto synced = fsync_fd(fd->get(), quoted(dir)); !synced) return std::unexpected(synced.error());
    }
    return files;
  }

  // Put the staged copy in place of the set's entry, in one rename.
  Status commit(const Source& s, const std::string& staged) {
    auto parent = set_parent(s.relative);
    if (!parent) return std::unexpected(parent.error());
    const std::string name = name_of(s.relative);
    auto existing = exists_at(parent->get(), name);
    if (!existing) return std::unexpected(existing.error());
    const unsigned flags = *existing ? RENAME_EXCHANGE : RENAME_NOREPLACE;
    if (::renameat2(staging_, staged.c_str(), parent->get(), name.c_str(), flags) < 0)
      return fail_errno("rename the copy of " + quoted(absolute(s.relative)) + " into place");
    if (auto synced = fsync_fd(parent->get(), "directory of " + quoted(absolute(s.relative)));
        !synced)
      return synced;
    // After the exchange the old copy has the staged name.
    if (*existing)
      if (auto removed = remove_tree_at(staging_, staged); !removed) return removed;
    return fsync_fd(staging_, quoted(host_files::kCaptureTemp));
  }

 private:
  static std::string absolute(const std::string& relative) { return "/" + relative; }

  std::string where(const std::string& relative) const {
    return quoted(absolute(relative)) + (root_name_ == "/" ? "" : " in " + quoted(root_name_));
  }

  Status check_type(const std::string& relative, const struct stat& st) const {
    if (!copyable(st.st_mode))
      return fail(where(relative) + " is " + file_type_name(st.st_mode) +
                  "; only files, symlinks and directories can be captured (name the files "
                  "beside it instead)");
    if (S_ISREG(st.st_mode) && st.st_size > kMaxFileSize)
      return fail(where(relative) + " is larger than 4 MiB (" +
                  format_bytes(static_cast<std::uint64_t>(st.st_size)) +
                  "); the host identity is for small files the init compares at every boot: "
                  "keep large host data in /hostpart/data (/data0) and capture a symlink to "
                  "it, or capture the small files beside it");
    if (S_ISDIR(st.st_mode) && same_inode(st, hostpart_))
      return fail(where(relative) + " is the host partition; capture the files inside it "
                  "that belong to the host instead");
    return {};
  }

  // The names of the entry's owner in the root, for applying by name.
  void name_owner(const std::string& relative, const struct stat& st) {
    host_owners::Owner o{st.st_uid, st.st_gid, accounts_.user_name(st.st_uid),
                         accounts_.group_name(st.st_gid)};
    const bool known = accounts_.user_ids.size() + accounts_.group_ids.size() > 0;
    if (known && (o.user.empty() || o.group.empty()))
      notes_.push_back(where(relative) + " is owned by " + std::to_string(o.uid) + ":" +
                       std::to_string(o.gid) + ", which has no name in its /etc/passwd or "
                       "/etc/group: those numbers are applied as they are");
    owners_[relative] = std::move(o);
  }

  Status make_staged_dir(int dir, const std::string& name, const std::string& relative,
                         const struct stat& st) {
    if (auto ok = check_type(relative, st); !ok) return ok;
    if (auto made = make_dir_like(dir, name, st); !made)
      return std::unexpected(std::move(made.error()).context(where(relative)));
    return {};
  }

  // imgroot/host/<parent of relative>, made where missing with the owner and
  // mode of the root's directories, so that applying makes them alike.
  Result<Fd> set_parent(const std::string& relative) {
    auto dir = Fd::open_at(host_, ".", O_RDONLY | O_DIRECTORY);
    const std::string parent = parent_of(relative);
    if (parent == ".") return dir;
    std::string prefix;
    for (size_t at = 0; dir && at <= parent.size();) {
      size_t end = std::min(parent.find('/', at), parent.size());
      const std::string part = parent.substr(at, end - at);
      prefix += (prefix.empty() ? "" : "/") + part;
      at = end + 1;
      auto st = stat_at(dir->get(), part);
      if (!st) return std::unexpected(st.error());
      if (*st && !S_ISDIR((*st)->st_mode))
        return fail(std::string(host_files::kHostIdentityDir) + "/" + prefix + " is " +
                    file_type_name((*st)->st_mode) + ", not a directory; 'imgroot host forget " +
                    absolute(prefix) + "' first");
      if (!*st) {
        auto like = open_in_root(root_, prefix, O_PATH | O_DIRECTORY);
        struct stat root_st {};
        if (!like) return std::unexpected(like.error());
        if (::fstat(like->get(), &root_st) < 0) return fail_errno("stat " + quoted(absolute(prefix)));
        if (auto made = make_dir_like(dir->get(), part, root_st); !made) return std::unexpected(made.error());
        if (auto synced = fsync_fd(dir->get(), quoted(part)); !synced) return std::unexpected(synced.error());
      }
      dir = Fd::open_at(dir->get(), part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    }
    return dir;
  }

  int root_;
  std::string root_name_;
  int host_;
  int staging_;
  struct stat hostpart_;
  const Accounts& accounts_;
  host_owners::Owners owners_;
  std::vector<std::string> notes_;
};

// imgroot/host-owners with the names of what is being captured in place of
// the older copies' (before the renames: a captured entry always has its
// names; an older copy left by a crash has numbers that no longer match).
Status record_owners(int hostpart_dir, const std::vector<std::string>& relatives,
                     const host_owners::Owners& captured) {
  auto owners = host_owners::read_owners(hostpart_dir);
  if (!owners) return std::unexpected(owners.error());
  std::erase_if(*owners, [&](const auto& entry) {
    return std::any_of(relatives.begin(), relatives.end(), [&](const std::string& r) {
      return entry.first == r || entry.first.starts_with(r + "/");
    });
  });
  for (const auto& [path, owner] : captured) (*owners)[path] = owner;
  return host_owners::write_owners(hostpart_dir, *owners);
}

// imgroot/ and imgroot/host (0700: it holds private keys), made if missing.
Result<std::pair<Fd, Fd>> open_set_dirs(int hostpart_dir) {
  auto imgroot = open_or_make_dir_at(hostpart_dir, host_files::kStateDir, 0755);
  if (!imgroot) return std::unexpected(imgroot.error());
  const std::string host_name = name_of(host_files::kHostIdentityDir);
  if (::mkdirat(imgroot->get(), host_name.c_str(), 0700) == 0) {
    if (auto synced = fsync_fd(imgroot->get(), quoted(host_files::kStateDir)); !synced)
      return std::unexpected(synced.error());
  } else if (errno != EEXIST) {
    return fail_errno(std::string("create ") + host_files::kHostIdentityDir + "/");
  }
  auto host = Fd::open_at(imgroot->get(), host_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!host) return std::unexpected(host.error());
  if (::fchmod(host->get(), 0700) < 0)
    return fail_errno(std::string("chmod ") + host_files::kHostIdentityDir);
  return std::pair{std::move(*imgroot), std::move(*host)};
}

}  // namespace

Result<CaptureReport> capture(int hostpart_dir, int root_dir, const std::string& root_name,
                              const std::vector<std::string>& paths) {
  std::vector<std::string> relatives;
  for (const auto& p : paths) {
    auto r = set_path(p);
    if (!r) return std::unexpected(r.error());
    relatives.push_back(*r);
  }
  relatives = outermost(std::move(relatives));
  struct stat hostpart {};
  if (::fstat(hostpart_dir, &hostpart) < 0) return fail_errno("stat the host partition");

  auto dirs = open_set_dirs(hostpart_dir);
  if (!dirs) return std::unexpected(dirs.error());
  auto& [imgroot, host] = *dirs;
  if (auto removed = remove_tree_at(imgroot.get(), host_files::kCaptureTemp); !removed)
    return std::unexpected(removed.error());
  if (::mkdirat(imgroot.get(), host_files::kCaptureTemp, 0700) < 0) return fail_errno("create " + quoted(host_files::kCaptureTemp));
  auto staging = Fd::open_at(imgroot.get(), host_files::kCaptureTemp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (!staging) return std::unexpected(staging.error());

  auto accounts = read_accounts(root_dir);
  if (!accounts) return std::unexpected(std::move(accounts.error()).context("read owner names"));
  Capturer capturer(root_dir, root_name, host.get(), staging->get(), hostpart, *accounts);
  std::vector<Source> sources;
  CaptureReport report;
  Status ok;
  for (size_t i = 0; ok && i < relatives.size(); ++i) {
    auto source = capturer.find(relatives[i]);
    if (!source) ok = std::unexpected(source.error());
    else sources.push_back(std::move(*source));
  }
  for (size_t i = 0; ok && i < sources.size(); ++i) {
    auto files = capturer.stage(sources[i], std::to_string(i));
    if (!files) ok = std::unexpected(files.error());
    else report.files += *files;
  }
  if (ok) ok = record_owners(hostpart_dir, relatives, capturer.owners());
  // Up to here the set is untouched.
  for (size_t i = 0; ok && i < sources.size(); ++i) {
    ok = capturer.commit(sources[i], std::to_string(i));
    if (ok) report.paths.push_back("/" + sources[i].relative);
  }
  staging = Fd();
  (void)remove_tree_at(imgroot.get(), host_files::kCaptureTemp);  // a leftover is removed by the next capture
  if (!ok) return std::unexpected(ok.error());
  if (auto synced = fsync_fd(imgroot.get(), quoted(host_files::kStateDir)); !synced)
    return std::unexpected(synced.error());
  report.notes = capturer.notes();
  return report;
}

}  // namespace imgroot::identity

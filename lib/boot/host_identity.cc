#include "boot/host_identity.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/statvfs.h>

#include "base/layout.h"
#include "boot/host_owners.h"
#include "system/accounts.h"
#include "system/file.h"
#include "system/resolve.h"
#include "system/tree.h"

namespace imgroot::host_identity {

namespace {

// Writes into the root stay on its filesystem (the image, or the overlay).
constexpr std::uint64_t kSameMount = RESOLVE_NO_XDEV;

class Applier {
 public:
  Applier(int root, const Warn& warn, host_owners::Owners owners, Accounts accounts)
      : root_(root), warn_(warn), owners_(std::move(owners)), accounts_(std::move(accounts)) {}

  // walk_tree's visitor: true descends into a directory.
  bool visit(const TreeEntry& e) {
    if (!copyable(e.st.st_mode)) {
      say("skipped " + quoted(absolute(e.path)) + ": it is " + file_type_name(e.st.st_mode) +
          "; only files, symlinks and directories are applied");
      return false;
    }
    auto parent = open_in_root(root_, parent_of(e.path), O_RDONLY | O_DIRECTORY, kSameMount);
    if (!parent) return failed(e, parent.error());
    std::string warning;  // a name the root lacks: said where it is applied
    const struct stat st = host_owners::owned_in(owners_, accounts_, e.path, e.st, warning);
    return S_ISDIR(st.st_mode) ? directory(e, st, warning, parent->get())
                               : file(e, st, warning, parent->get());
  }

  void say(const std::string& message) {
    ++report_.warnings;
    warn_("host identity: " + message);
  }
  const ApplyReport& report() const { return report_; }

 private:
  bool failed(const TreeEntry& e, const Error& error) {
    say("not applied " + quoted(absolute(e.path)) + ": " + error.message);
    return false;
  }

  // The entry is applied, with the fallback owner 'warning' explains.
  void note(const std::string& warning) {
    if (!warning.empty()) warn_("host identity: " + warning);
  }

  bool directory(const TreeEntry& e, const struct stat& st, const std::string& warning,
                 int parent) {
    auto existing = open_in_root(root_, e.path, O_PATH | O_DIRECTORY, kSameMount);
    if (existing) return true;
    if (existing.error().code != ENOENT) return failed(e, existing.error());
    if (auto made = make_dir_like(parent, e.name, st); !made) return failed(e, made.error());
    note(warning);
    return true;
  }

  bool file(const TreeEntry& e, const struct stat& st, const std::string& warning, int parent) {
    note(warning);
    // What an earlier boot applied is there already on a read-write image:
    // leave it, rather than rewrite the same bytes at every boot.
    auto diff = compare_entry(e.dir, e.name, st, parent, e.name);
    if (diff && diff->same() && !diff->mtime) {
      ++report_.unchanged;
      return false;
    }
    // No fsync: the root is the image being booted, not yet in use, and a
    // crash before its writeback only means the next boot applies again.
    if (auto copied = copy_entry(e.dir, e.name, st, parent, e.name, Durability::kNone); !copied)
      return failed(e, copied.error());
    ++report_.applied;
    return false;
  }

  int root_;
  const Warn& warn_;
  host_owners::Owners owners_;
  Accounts accounts_;  // the root's, to map the owners' names
  ApplyReport report_;
};

}  // namespace

Result<std::optional<Fd>> open_identity_dir(int hostpart_dir) {
  auto fd = Fd::open_at(hostpart_dir, host_files::kHostIdentityDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd) return std::optional<Fd>(std::move(*fd));
  if (fd.error().code == ENOENT) return std::optional<Fd>();
  return std::unexpected(fd.error());
}

namespace {

// The owner names recorded at capture, and the root's accounts to map them
// with. Without them the captured numbers are applied, as before names.
std::pair<host_owners::Owners, Accounts> owner_names(int identity_dir, int root_dir,
                                                     const Warn& warn) {
  if (identity_dir < 0) return {};
  auto owners = host_owners::read_owners_beside(identity_dir);
  if (!owners) {
    warn("host identity: owner names not read, captured numbers used: " + owners.error().message);
    return {};
  }
  if (owners->empty()) return {};
  auto accounts = read_accounts(root_dir);
  if (!accounts) {
    // Every name is then missing: root:root and the owner's bits only.
    warn("host identity: the root's accounts not read: " + accounts.error().message);
    return {std::move(*owners), Accounts{}};
  }
  return {std::move(*owners), std::move(*accounts)};
}

}  // namespace

ApplyReport apply_host_identity(int identity_dir, int root_dir, const Warn& warn) {
  auto [owners, accounts] = owner_names(identity_dir, root_dir, warn);
  Applier applier(root_dir, warn, std::move(owners), std::move(accounts));
  if (identity_dir < 0) return applier.report();
  struct statvfs vfs {};
  if (::fstatvfs(root_dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
    auto files = count_files(identity_dir);
    if (files && *files == 0) return applier.report();
    applier.say(std::string("the root is read-only (ro without imgroot.overlay): ") +
                host_files::kHostIdentityDir + " is not applied; the image's files are used");
    return applier.report();
  }
  auto walked = walk_tree(identity_dir, [&](const TreeEntry& e) -> Result<bool> {
    return applier.visit(e);
  });
  if (!walked)
    applier.say(std::string("read ") + host_files::kHostIdentityDir + ": " +
                walked.error().message + "; what follows it is not applied");
  return applier.report();
}

Result<int> count_files(int identity_dir) {
  int files = 0;
  auto walked = walk_tree(identity_dir, [&](const TreeEntry& e) -> Result<bool> {
    if (!S_ISDIR(e.st.st_mode)) ++files;
    return true;
  });
  if (!walked) return std::unexpected(walked.error());
  return files;
}

}  // namespace imgroot::host_identity

// imgroot host show: the set, and how it compares with a root.
#include <fcntl.h>

#include <sstream>

#include "base/bytes.h"
#include "base/layout.h"
#include "base/names.h"
#include "boot/host_identity.h"
#include "boot/host_owners.h"
#include "identity/identity.h"
#include "state/state_file.h"
#include "system/accounts.h"
#include "system/resolve.h"
#include "system/tree.h"

namespace imgroot::identity {

namespace {

// 'st': the entry as the init would apply it to that root (owner by name).
void compare_with(int root, const TreeEntry& e, const struct stat& st, ShownEntry& shown) {
  auto parent = open_in_root(root, parent_of(e.path), O_RDONLY | O_DIRECTORY);
  Result<Difference> d = parent ? compare_entry(e.dir, e.name, st, parent->get(), e.name)
                                : std::unexpected(parent.error());
  if (!d && (d.error().code == ENOENT || d.error().code == ENOTDIR)) {
    d = Difference{};
    d->missing = true;
  }
  if (!d) {
    shown.here = Here::kUnreadable;
    shown.error = d.error().message;
    return;
  }
  if (d->missing) {
    shown.here = Here::kMissing;
    return;
  }
  shown.here = d->same() ? Here::kSame : Here::kDiffers;
  if (d->type) shown.differences.push_back("type");
  if (d->content && !d->type) shown.differences.push_back("content");
  if (d->mode) shown.differences.push_back("mode");
  if (d->owner) shown.differences.push_back("owner");
}

std::string type_word(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISLNK(mode)) return "symlink";
  if (S_ISDIR(mode)) return "directory";
  return "other";
}

std::string octal_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string here_text(const ShownEntry& e) {
  if (e.here == Here::kMissing) return "missing here";
  if (e.here == Here::kUnreadable) return "unreadable here: " + e.error;
  if (e.here != Here::kDiffers) return here_name(e.here);
  std::string out = "differs (";
  for (size_t i = 0; i < e.differences.size(); ++i) out += (i ? ", " : "") + e.differences[i];
  return out + ")";
}

}  // namespace

const char* here_name(Here here) {
  constexpr EnumName<Here> kNames[] = {{Here::kNotCompared, ""},
                                       {Here::kSame, "same"},
                                       {Here::kDiffers, "differs"},
                                       {Here::kMissing, "missing"},
                                       {Here::kUnreadable, "unreadable"}};
  return enum_name(kNames, here);
}

std::string entry_type(const ShownEntry& e) { return type_word(e.st.st_mode); }
std::string entry_mode(const ShownEntry& e) { return octal_mode(e.st.st_mode); }

Result<Shown> show(int hostpart_dir, std::optional<int> root_dir) {
  Shown shown;
  auto host = host_identity::open_identity_dir(hostpart_dir);
  if (!host) return std::unexpected(host.error());
  if (!*host) return shown;
  auto owners = host_owners::read_owners(hostpart_dir);
  if (!owners) return std::unexpected(owners.error());
  Accounts accounts;  // without the root's: every name missing, as at boot
  if (root_dir)
    if (auto read = read_accounts(*root_dir)) accounts = std::move(*read);
  auto walked = walk_tree((*host)->get(), [&](const TreeEntry& e) -> Result<bool> {
    ShownEntry entry;
    entry.path = "/" + e.path;
    entry.st = e.st;
    if (S_ISLNK(e.st.st_mode)) {
      auto target = read_link_at(e.dir, e.name);
      if (!target) return std::unexpected(target.error());
      entry.target = *target;
    }
    if (const auto* names = host_owners::names_for(*owners, e.path, e.st)) {
      entry.user = names->user;
      entry.group = names->group;
    }
    std::string unused;  // the init's warning; the comparison says "owner"
    if (root_dir)
      compare_with(*root_dir, e, host_owners::owned_in(*owners, accounts, e.path, e.st, unused),
                   entry);
    shown.entries.push_back(std::move(entry));
    return true;
  });
  if (!walked) return std::unexpected(walked.error());
  return shown;
}

std::string shown_to_text(const Shown& s) {
  std::ostringstream out;
  const std::string set = std::string(host_files::kHostIdentityDir) + " on " + s.hostpart;
  if (s.entries.empty()) {
    out << set << " is empty: this host boots with the image's files ('imgroot host capture "
           "PATH...' adds some)\n";
    return out.str();
  }
  out << set;
  if (s.compared_with) out << ", compared with " << *s.compared_with;
  out << ":\n";
  size_t width = 0;
  for (const auto& e : s.entries) width = std::max(width, e.path.size());
  int files = 0;
  for (const auto& e : s.entries) {
    files += S_ISDIR(e.st.st_mode) ? 0 : 1;
    out << "  " << e.path << std::string(width + 2 - e.path.size(), ' ') << type_word(e.st.st_mode)
        << std::string(11 - type_word(e.st.st_mode).size(), ' ') << octal_mode(e.st.st_mode) << " "
        << (e.user.empty() ? std::to_string(e.st.st_uid) : e.user) << ":"
        << (e.group.empty() ? std::to_string(e.st.st_gid) : e.group);
    if (S_ISREG(e.st.st_mode)) out << " " << format_bytes(static_cast<std::uint64_t>(e.st.st_size));
    out << " " << state::format_rfc3339(static_cast<std::int64_t>(e.st.st_mtim.tv_sec));
    if (S_ISLNK(e.st.st_mode)) out << " -> " << e.target;
    if (e.here != Here::kNotCompared) out << "  " << here_text(e);
    out << "\n";
  }
  out << files << (files == 1 ? " file" : " files")
      << ", copied into the root at every boot before the switch to it\n";
  return out.str();
}

}  // namespace imgroot::identity

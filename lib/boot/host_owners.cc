#include "boot/host_owners.h"

#include <fcntl.h>

#include <cstdio>

#include "base/lines.h"
#include "base/layout.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/tree.h"

namespace imgroot::host_owners {

namespace {

// The manifest is small; a larger file is not one imgroot wrote.
constexpr off_t kMaxOwnersFile = off_t{4} << 20;

std::string escape(const std::string& path) {
  std::string out;
  for (char c : path) out += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
  return out;
}

std::string unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
      out += text[i] == 'n' ? '\n' : text[i];
    } else {
      out += text[i];
    }
  }
  return out;
}

Result<Owners> read_from(int dir, const std::string& name) {
  auto fd = Fd::open_at(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!fd) {
    if (fd.error().code == ENOENT) return Owners{};
    return std::unexpected(fd.error());
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno("stat " + quoted(name));
  if (!S_ISREG(st.st_mode) || st.st_size > kMaxOwnersFile)
    return fail(quoted(name) + " is not a regular file of at most 4 MiB");
  auto text = read_file_at(dir, name);
  if (!text) return std::unexpected(text.error());
  return parse_owners(*text);
}

}  // namespace

std::string format_owners(const Owners& owners) {
  std::string out;
  for (const auto& [path, o] : owners)
    out += std::to_string(o.uid) + " " + std::to_string(o.gid) + " " +
           (o.user.empty() ? "-" : o.user) + " " + (o.group.empty() ? "-" : o.group) + " " +
           escape(path) + "\n";
  return out;
}

Owners parse_owners(const std::string& text) {
  Owners owners;
  for (const std::string_view view : lines_of(text)) {
    const std::string line(view);
    std::string fields[4];
    size_t from = 0;
    bool ok = true;
    for (auto& f : fields) {
      const size_t space = line.find(' ', from);
      if (space == std::string::npos || space == from) ok = false;
      if (!ok) break;
      f = line.substr(from, space - from);
      from = space + 1;
    }
    Owner o;
    if (!ok || from >= line.size() || !parse_id(fields[0], o.uid) || !parse_id(fields[1], o.gid))
      continue;
    o.user = fields[2] == "-" ? "" : fields[2];
    o.group = fields[3] == "-" ? "" : fields[3];
    owners[unescape(line.substr(from))] = o;
  }
  return owners;
}

Result<Owners> read_owners(int hostpart_dir) { return read_from(hostpart_dir, host_files::kHostOwners); }

Result<Owners> read_owners_beside(int identity_dir) {
  // imgroot/host's parent is imgroot/, which holds the manifest.
  auto state_dir = Fd::open_at(identity_dir, "..", O_PATH | O_DIRECTORY);
  if (!state_dir) return std::unexpected(state_dir.error());
  return read_from(state_dir->get(), name_of(host_files::kHostOwners));
}

Status write_owners(int hostpart_dir, const Owners& owners) {
  auto state_dir = Fd::open_at(hostpart_dir, host_files::kStateDir, O_RDONLY | O_DIRECTORY);
  if (!state_dir) return std::unexpected(state_dir.error());
  return write_file_atomic_at(state_dir->get(), name_of(host_files::kHostOwners),
                              format_owners(owners), 0600);
}

const Owner* names_for(const Owners& owners, const std::string& path, const struct stat& st) {
  auto it = owners.find(path);
  if (it == owners.end() || it->second.uid != st.st_uid || it->second.gid != st.st_gid)
    return nullptr;
  return &it->second;
}

struct stat owned_in(const Owners& owners, const Accounts& accounts, const std::string& path,
                     const struct stat& st, std::string& warning) {
  struct stat out = st;
  warning.clear();
  const Owner* names = names_for(owners, path, st);
  if (!names) return out;  // captured without names: the numbers as they are
  std::string missing;
  if (!names->user.empty()) {
    if (auto uid = accounts.user_id(names->user)) out.st_uid = *uid;
    else missing = "user " + quoted(names->user) + " is not in its /etc/passwd";
  }
  if (!names->group.empty()) {
    if (auto gid = accounts.group_id(names->group)) out.st_gid = *gid;
    else missing += (missing.empty() ? "group " : ", group ") + quoted(names->group) +
                    " is not in its /etc/group";
  }
  if (missing.empty()) return out;
  out.st_uid = 0;
  out.st_gid = 0;
  if (!S_ISLNK(st.st_mode)) out.st_mode = (st.st_mode & S_IFMT) | (st.st_mode & 0700);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(out.st_mode & 07777));
  warning = quoted("/" + path) + ": " + missing + "; given root:root " + mode + " instead";
  return out;
}

}  // namespace imgroot::host_owners

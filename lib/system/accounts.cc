#include "system/accounts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/lines.h"
#include "system/fd.h"
#include "system/resolve.h"

namespace imgroot {

namespace {

// passwd and group files are kilobytes; PID 1 reads nothing unbounded.
constexpr off_t kMaxAccountFile = off_t{8} << 20;

// The file's bytes; "" when the root has none.
Result<std::string> read_in_root(int root_dir, const std::string& path) {
  // A symlink (NixOS-style /etc) resolves inside the root like the rest.
  auto fd = open_in_root(root_dir, path, O_RDONLY | O_NONBLOCK);
  if (!fd) {
    if (fd.error().code == ENOENT) return std::string();
    return std::unexpected(std::move(fd.error()).context("/" + path));
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno("stat " + quoted("/" + path));
  if (!S_ISREG(st.st_mode) || st.st_size > kMaxAccountFile)
    return fail(quoted("/" + path) + " is not a regular file of at most 8 MiB");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::read(fd->get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("read " + quoted("/" + path));
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return text;
}

}  // namespace

bool parse_id(const std::string& text, unsigned& id) {
  if (text.empty() || text.size() > 10) return false;
  unsigned long long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > 0xfffffffeULL) return false;
  id = static_cast<unsigned>(v);
  return true;
}

void parse_account_lines(const std::string& text, std::map<std::string, unsigned>& ids,
                         std::map<unsigned, std::string>& names) {
  for (const std::string_view view : lines_of(text)) {
    const std::string line(view);
    const size_t name_end = line.find(':');
    if (name_end == 0 || name_end == std::string::npos || line[0] == '#' || line[0] == '+' ||
        line[0] == '-')
      continue;
    const size_t number_at = line.find(':', name_end + 1);
    if (number_at == std::string::npos) continue;
    const size_t number_end = line.find(':', number_at + 1);
    unsigned id = 0;
    if (!parse_id(line.substr(number_at + 1, number_end - number_at - 1), id)) continue;
    const std::string name = line.substr(0, name_end);
    ids.emplace(name, id);  // the first line wins, as getpwnam finds it
    names.emplace(id, name);
  }
}

std::optional<uid_t> Accounts::user_id(const std::string& name) const {
  if (name == "root") return 0;
  auto it = user_ids.find(name);
  return it == user_ids.end() ? std::nullopt : std::optional<uid_t>(it->second);
}

std::optional<gid_t> Accounts::group_id(const std::string& name) const {
  if (name == "root") return 0;
  auto it = group_ids.find(name);
  return it == group_ids.end() ? std::nullopt : std::optional<gid_t>(it->second);
}

std::string Accounts::user_name(uid_t id) const {
  auto it = user_names.find(id);
  return it != user_names.end() ? it->second : id == 0 ? "root" : "";
}

std::string Accounts::group_name(gid_t id) const {
  auto it = group_names.find(id);
  return it != group_names.end() ? it->second : id == 0 ? "root" : "";
}

Result<Accounts> read_accounts(int root_dir) {
  Accounts a;
  auto passwd = read_in_root(root_dir, "etc/passwd");
  if (!passwd) return std::unexpected(passwd.error());
  auto group = read_in_root(root_dir, "etc/group");
  if (!group) return std::unexpected(group.error());
  parse_account_lines(*passwd, a.user_ids, a.user_names);
  parse_account_lines(*group, a.group_ids, a.group_names);
  return a;
}

}  // namespace imgroot

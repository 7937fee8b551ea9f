// The user and group names of a root, from its /etc/passwd and /etc/group,
// read without NSS (PID 1 has none; the CLI reads another root's). Only the
// files count: accounts from LDAP or sssd are not seen, system accounts
// are all there.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <type_traits>

#include "base/error.h"

namespace imgroot {

static_assert(std::is_same_v<uid_t, unsigned> && std::is_same_v<gid_t, unsigned>);

struct Accounts {
  std::map<std::string, uid_t> user_ids;  // "postgres" -> 104
  std::map<std::string, gid_t> group_ids;
  std::map<uid_t, std::string> user_names;  // 104 -> "postgres" (the first line wins)
  std::map<gid_t, std::string> group_names;

  // By name; "root" is 0 everywhere, with or without the files.
  std::optional<uid_t> user_id(const std::string& name) const;
  std::optional<gid_t> group_id(const std::string& name) const;
  // "" when the number has no name.
  std::string user_name(uid_t id) const;
  std::string group_name(gid_t id) const;
};

// A decimal account number, 0 to 4294967294 ((uid_t)-1 means "no change" to chown).
bool parse_id(const std::string& text, unsigned& id);

// "name:password:number:..." lines (passwd or group) into 'ids' and
// 'names'; comments, blank and malformed lines are skipped.
void parse_account_lines(const std::string& text, std::map<std::string, unsigned>& ids,
                         std::map<unsigned, std::string>& names);

// etc/passwd and etc/group of the root 'root_dir', resolved inside it. A
// file that is missing gives no names; one that cannot be read, or larger
// than a few MiB, is an error.
Result<Accounts> read_accounts(int root_dir);

}  // namespace imgroot

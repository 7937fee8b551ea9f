// The owner names of the host identity's entries: imgroot/host-owners on
// the host partition, beside imgroot/host/ (docs/host-identity.md). Account
// numbers are given out at package install, so the same number names other
// accounts in another image build; the set keeps the numbers the files had
// where they were captured, and this manifest the names those numbers had
// there. Applying gives each entry the numbers its names have in the new
// root. Part of imgroot_core.
//
// One line per entry: "UID GID USER GROUP PATH", PATH relative to
// imgroot/host with '\' and newline escaped as "\\" and "\n", USER or GROUP
// "-" when the number had no name. A line holds only while the entry still
// has those numbers: an entry without a line that holds keeps its numbers.
#pragma once

#include <sys/stat.h>

#include <map>
#include <string>

#include "base/error.h"
#include "system/accounts.h"

namespace imgroot::host_owners {

struct Owner {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;   // "" when unknown where captured
  std::string group;
  bool operator==(const Owner&) const = default;
};
using Owners = std::map<std::string, Owner>;  // by path in imgroot/host: "etc/ssh/key"

std::string format_owners(const Owners& owners);
Owners parse_owners(const std::string& text);

// imgroot/host-owners of the host partition; empty when there is none.
Result<Owners> read_owners(int hostpart_dir);
// The same, from the directory fd of imgroot/host.
Result<Owners> read_owners_beside(int identity_dir);
// Written atomically (temporary file, fsync, rename, fsync).
Status write_owners(int hostpart_dir, const Owners& owners);

// The names recorded for 'path' if they still describe 'st'.
const Owner* names_for(const Owners& owners, const std::string& path, const struct stat& st);

// 'st' (the captured entry 'path') with the owner its names have in the
// root whose accounts are 'accounts'. A name the root lacks gives root:root
// and the owner's permission bits only (mode & 0700), and 'warning' says
// so: private files must not become readable by whoever has the number now.
struct stat owned_in(const Owners& owners, const Accounts& accounts, const std::string& path,
                     const struct stat& st, std::string& warning);

}  // namespace imgroot::host_owners

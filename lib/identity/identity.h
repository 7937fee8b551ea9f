// `imgroot host`: the per-host identity set in imgroot/host/ on the host
// partition (docs/host-identity.md). Capturing copies with the same routine
// the init applies with (system/tree.h), durably.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgroot::identity {

// An absolute path as the operator names it ("/etc/ssh/") made relative to
// the set ("etc/ssh"); refuses relative paths, "..", "/" itself and what is
// under /proc, /sys, /dev, /run or /hostpart, saying what to do instead.
Result<std::string> set_path(const std::string& path);

struct CaptureReport {
  std::vector<std::string> paths;  // absolute, as captured
  int files = 0;                   // files and symlinks copied
  std::vector<std::string> notes;  // owners without names, applied by number
};

// Copy 'paths' (files, symlinks as symlinks, directories recursively) from
// the root 'root_dir' ('root_name' for messages, e.g. "/") into imgroot/host
// of the host partition 'hostpart_dir'. Everything is copied to a staging
// directory first, fsynced, and only then renamed into place (an older copy
// replaced in one rename): a missing path or a FIFO anywhere leaves the set
// as it was.
Result<CaptureReport> capture(int hostpart_dir, int root_dir, const std::string& root_name,
                              const std::vector<std::string>& paths);

// Remove 'paths' (files or whole directories) from the set, and the
// directories left empty above them. Every path must be in the set, or
// nothing is removed.
Status forget(int hostpart_dir, const std::vector<std::string>& paths);

// How an entry of the set compares with the same path in a root.
enum class Here { kNotCompared, kSame, kDiffers, kMissing, kUnreadable };
// "same", "differs", "missing", "unreadable"; "" when not compared.
const char* here_name(Here here);

// One entry of the set, as `imgroot host show` lists it.
struct ShownEntry {
  std::string path;    // absolute: "/etc/hostname"
  struct stat st {};   // lstat of the copy in imgroot/host
  std::string target;  // a symlink's target
  std::string user;    // owner names where captured ("" when unknown: numbers)
  std::string group;
  Here here = Here::kNotCompared;        // against the root compared with
  std::vector<std::string> differences;  // "type", "content", "mode", "owner"
  std::string error;                     // why kUnreadable
};

struct Shown {
  std::string hostpart;
  std::optional<std::string> compared_with;  // the root compared with, if any
  std::vector<ShownEntry> entries;           // in path order, directories included
};

// The set, each entry compared with the same path in 'root_dir' when given.
Result<Shown> show(int hostpart_dir, std::optional<int> root_dir);

// "file", "symlink", "directory" or "other"; "0644".
std::string entry_type(const ShownEntry& e);
std::string entry_mode(const ShownEntry& e);

std::string shown_to_text(const Shown& shown);
std::string shown_to_json(const Shown& shown);  // docs/host-identity.md

}  // namespace imgroot::identity

// Trees of files relative to directory fds: walking one, copying an entry
// with its metadata (the one copy routine of the host identity: the init
// applies with it, `imgroot host capture` captures with it), comparing two
// entries (removing one: remove_tree_at in system/file.h). Never follows a symlink it meets: links are
// entries like files.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>

#include "base/error.h"

namespace imgroot {

// One entry met by walk_tree.
struct TreeEntry {
  std::string path;  // relative to the walked directory: "etc/ssh/ssh_host_rsa_key"
  int dir = -1;      // the directory holding it, open while the visitor runs
  std::string name;  // its name in 'dir'
  struct stat st {};  // lstat
};

// "etc/ssh/key" -> "etc/ssh"; "etc" -> ".": the directory a walked path is in.
inline std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}
// "etc/ssh/key" -> "key".
inline std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Return true to descend into a directory entry (ignored for the others).
using TreeVisitor = std::function<Result<bool>(const TreeEntry&)>;

// Visit every entry below 'dir' in path order (a directory before what it
// holds, names sorted). A visitor error stops the walk and is returned.
Status walk_tree(int dir, const TreeVisitor& visit);

// "a FIFO", "a socket", "a character device", ...: for messages.
std::string file_type_name(mode_t mode);
// Regular files, symlinks and directories: what a tree copy carries.
inline bool copyable(mode_t mode) { return S_ISREG(mode) || S_ISLNK(mode) || S_ISDIR(mode); }

enum class Durability {
  kNone,   // the caller accepts losing the copy in a crash
  kFsync,  // the file is fsynced before its rename; the caller fsyncs 'to_dir'
};

// Copy the regular file or symlink from_dir/from_name ('st' its lstat) to
// to_dir/to_name atomically: a temporary name in to_dir, content, owner,
// mode, atime and mtime from 'st', then renameat over whatever to_name was
// (a symlink there is replaced, never followed). A directory at to_name is
// an error. Nothing is left behind on failure.
Status copy_entry(int from_dir, const std::string& from_name, const struct stat& st, int to_dir,
                  const std::string& to_name, Durability durability);

// mkdirat(dir, name) with the owner and permissions of 'st'. EEXIST is
// returned as an error like any other.
Status make_dir_like(int dir, const std::string& name, const struct stat& st);

// How entry b differs from entry a (a's lstat given).
struct Difference {
  bool missing = false;  // there is no b
  bool type = false;     // file, symlink, directory...
  bool content = false;  // bytes of a file, target of a symlink
  bool mode = false;     // permission bits
  bool owner = false;    // uid or gid
  bool mtime = false;    // modification time (not part of same())

  bool same() const { return !missing && !type && !content && !mode && !owner; }
};
Result<Difference> compare_entry(int a_dir, const std::string& a_name, const struct stat& a,
                                 int b_dir, const std::string& b_name);

// The target of the symlink dir/name.
Result<std::string> read_link_at(int dir, const std::string& name);

}  // namespace imgroot

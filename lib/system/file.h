// Files relative to a directory fd, and the durability steps boot-critical
// writes are made of.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "system/fd.h"

namespace imgroot {

// fstatat without following a final symlink; nullopt when the name does not exist.
Result<std::optional<struct stat>> stat_at(int dir, const std::string& name);
Result<bool> exists_at(int dir, const std::string& name);
// Two stat results name one file: the same inode on the same filesystem.
bool same_inode(const struct stat& a, const struct stat& b);

Result<std::string> read_file_at(int dir, const std::string& name);
Result<std::string> read_file(const std::string& path);

// The sorted names in a directory, without "." and "..".
Result<std::vector<std::string>> list_dir(int dir);

Status rename_at(int dir, const std::string& from, const std::string& to);
// linkat(dir, from, dir, to); an existing 'to' is an error (EEXIST).
Status link_at(int dir, const std::string& from, const std::string& to);
// unlinkat; a name that is already gone is success.
Status remove_at(int dir, const std::string& name);
// remove_at, then fsync(dir): the removal survives a crash.
Status remove_durably_at(int dir, const std::string& name);

// mkdirat(dir, name, mode); a name that is already there is success (the
// open or stat that follows says whether it is a directory).
Status make_dir_at(int dir, const std::string& name, mode_t mode);
// make_dir_at, then a handle on it for *_at calls (O_DIRECTORY, never
// following a symlink).
Result<Fd> open_or_make_dir_at(int dir, const std::string& name, mode_t mode);

Status fsync_fd(int fd, const std::string& what);

// Read exactly 'size' bytes at 'offset' of 'fd' into 'buf' (pread, EINTR
// retried); a file that ends first is an error naming 'what'.
Status read_exactly_at(int fd, unsigned char* buf, std::size_t size, std::uint64_t offset,
                       const std::string& what);

// Delete everything inside directory 'dir' that lives on its filesystem,
// depth first, never following a symlink: what is mounted below stays, and
// so does its mount point (busy). Best effort; false when something stayed.
bool remove_contents(int dir);
// 'name' in 'dir' and, when it is a directory, everything in it, as
// remove_contents; the error says why something stayed. A name that is
// already gone is success.
Status remove_tree_at(int dir, const std::string& name);

// Append 'line' and a newline to the file 'name' in 'dir' (created 0644 when
// missing) in one write, then fsync the file, and the directory when the
// file was created. A last line a power cut left torn is ended first, so
// 'line' is a line of its own (a reader skips the torn one). The caller
// makes sure no one else appends at the same time.
Status append_line_at(int dir, const std::string& name, const std::string& line);

// Write 'content' to dir/name so that a crash leaves either the old file or
// the new one: temp file, write, fsync, renameat, fsync(dir).
Status write_file_atomic_at(int dir, const std::string& name, const std::string& content,
                            mode_t mode = 0644);

// Push everything written on the filesystem behind 'fd' to its home
// locations, journal included. Boot loaders do not replay journals, so
// fsync alone does not make a rename visible to GRUB: this checkpoints ext4's
// journal (EXT4_IOC_CHECKPOINT), or freezes and thaws other filesystems.
Status checkpoint_filesystem(int fd);

}  // namespace imgroot

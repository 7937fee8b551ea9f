// Reading one directory entry the way `imgroot diff` compares it: lstat,
// the symlink target, the xattrs, and the bytes of regular files.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "diff/entry.h"
#include "system/fd.h"

namespace imgroot::diff {

// Read 'name' in the directory 'dir' without following a symlink. Linux
// before 6.13 has no *at() call for xattrs, so they are read relative to
// the working directory, which must be 'dir' (the walk changes into each
// directory and puts the working directory back when it is done).
Result<Node> read_node(int dir, const std::string& name);

// Reusable read buffers for comparing contents.
struct Buffers {
  std::vector<unsigned char> a, b;
  Buffers();
};

// A regular file dir/name opened for reading, its first 'size' bytes
// asked for in advance (POSIX_FADV_WILLNEED): the reads of a batch of
// files are then in flight together instead of one after the other.
Result<Fd> open_prefetched(int dir, const std::string& name, std::uint64_t size);

// Whether two open regular files, both 'size' bytes long, hold the same
// bytes. Stops at the first difference.
Result<bool> same_content(int fd_a, int fd_b, const std::string& name, std::uint64_t size,
                          Buffers& buffers);

// The SHA-256 (hex) of the regular file dir/name.
Result<std::string> sha256_at(int dir, const std::string& name, Buffers& buffers);

}  // namespace imgroot::diff

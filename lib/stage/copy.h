// Copying an image while hashing it: one read of the source, holes kept as
// holes, or an instant reflink where the filesystems allow it.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <string>

#include "base/error.h"

namespace imgroot::stage {

struct CopyControl {
  // Called after every chunk with the bytes handled so far (holes count) and
  // the total; may be empty.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  // Polled between chunks: when it becomes non-zero the copy stops with an
  // error. The CLI points it at the flag its signal handler sets.
  const volatile std::sig_atomic_t* cancel = nullptr;
  // Try FICLONE first. Tests turn it off to exercise the byte copy.
  bool allow_reflink = true;
  // After a reflink, hash the copy by reading it all (O(size)); without it a
  // reflinked copy has no SHA-256.
  bool hash_reflink = false;
};

struct Copied {
  std::uint64_t size = 0;     // apparent size, as st_size
  std::string sha256;         // lower-case hex of the whole content, holes as zeros;
                              // empty for a reflink unless CopyControl::hash_reflink
  bool reflinked = false;     // shares extents with the source; no data was written
  std::uint64_t data_bytes = 0;  // bytes read from data extents (what was not a hole)
};

// Make 'dest' (an empty regular file open for reading and writing) an exact
// copy of 'source' and hash it. 'dest_name' names the destination in
// messages. The byte copy reads each block of the source once, hashes it and
// writes it, the three overlapping on separate threads (stage/pipeline.h).
// Does not fsync: the caller decides when the copy must be durable.
Result<Copied> copy_with_hash(int source, int dest, const std::string& dest_name,
                              const CopyControl& control = {});

// Hash a whole file by reading it (holes read as zeros cost no I/O).
Result<std::string> hash_file(int fd, const CopyControl& control = {});

}  // namespace imgroot::stage

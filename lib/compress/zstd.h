// zstd, single-threaded, so the same input and level always give the same
// bytes: the initramfs (Debian's kernel has CONFIG_RD_ZSTD=y) and the frames
// and indexes of a release (release/).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/error.h"

namespace imgroot {

// A single zstd frame with the content size and a checksum, as `zstd` writes.
Result<std::string> compress_zstd(std::string_view data, int level);

// The content of one or more zstd frames; an error when it would exceed
// 'limit' bytes (input from the network must not choose our memory use) or
// the frames are damaged. 'what' names the data in messages.
Result<std::string> decompress_zstd(std::string_view data, std::size_t limit,
                                    const std::string& what);

}  // namespace imgroot

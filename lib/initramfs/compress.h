// zstd compression for the initramfs (Debian's kernel has CONFIG_RD_ZSTD=y).
// Single-threaded, so the same input and level always give the same bytes.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace imgroot::initramfs {

// A single zstd frame with the content size and a checksum, as `zstd` writes.
Result<std::string> compress_zstd(std::string_view data, int level);

}  // namespace imgroot::initramfs

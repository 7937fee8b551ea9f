// modules.dep and friends are depmod's output. A kernel package unpacked with
// `dpkg -x` has none, so the builder asks kmod's depmod to write them.
#pragma once

#include <string>

#include "base/error.h"

namespace imgroot::initramfs {

// ROOT/lib/modules/RELEASE, the directory the index files live in.
std::string modules_dir(const std::string& root, const std::string& kernel_release);

// Whether ROOT/lib/modules/RELEASE/modules.dep exists.
Result<bool> has_modules_dep(const std::string& root, const std::string& kernel_release);

// Run `depmod -b ROOT RELEASE` (found in /usr/sbin, /sbin, /usr/bin or /bin;
// no shell) and wait for it. Its messages go to the inherited stderr.
Status run_depmod(const std::string& root, const std::string& kernel_release);

}  // namespace imgroot::initramfs

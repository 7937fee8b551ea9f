// The first steps of PID 1: the API filesystems and the kernel modules.
#pragma once

#include <string>

#include "base/error.h"

namespace imgroot::init {

// /dev (devtmpfs), /proc, /sys, /run. An error names the first that failed;
// the ones already mounted stay (there is nothing better to do without them).
Status mount_api_filesystems();

struct ModulesLoaded {
  int loaded = 0;
  int failed = 0;  // each reported through 'on_failure'
};

// Load every module named (one absolute path a line) in 'list_path', in
// order, with finit_module. A module that is already loaded or built in
// counts as loaded. A missing list means a kernel with everything built in.
ModulesLoaded load_modules(const std::string& list_path, void (*on_failure)(const Error&));

}  // namespace imgroot::init

// The first steps of PID 1: the API filesystems and the kernel modules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgroot::init {

// /dev (devtmpfs), /proc, /sys, /run. An error names the first that failed;
// the ones already mounted stay (there is nothing better to do without them).
Status mount_api_filesystems();

struct ModulesLoaded {
  int loaded = 0;
  int failed = 0;  // each reported through 'on_failure'
};

// The modules that a modules.load names ('list', its text), in order. The
// builder writes one absolute path a line; the init reads words as the
// kernel command line splits them: blank lines and spaces or tabs around a
// path do not count, double quotes group (and go), and there are no
// comments ('#' is a word like any other).
std::vector<std::string> module_paths(std::string_view list);

// Load every module named in 'list_path' (module_paths()), in order, with
// finit_module. A module that is already loaded or built in
// counts as loaded. A missing list means a kernel with everything built in.
ModulesLoaded load_modules(const std::string& list_path, void (*on_failure)(const Error&));

}  // namespace imgroot::init

// The first steps of PID 1: the API filesystems, and the list of modules
// loaded at every boot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgroot::init {

// /dev (devtmpfs), /proc, /sys, /run. An error names the first that failed;
// the ones already mounted stay (there is nothing better to do without them).
Status mount_api_filesystems();

// The modules that a modules.load names ('list', its text), in order. The
// builder writes one absolute path a line; the init reads words as the
// kernel command line splits them: blank lines and spaces or tabs around a
// path do not count, double quotes group (and go), and there are no
// comments ('#' is a word like any other).
std::vector<std::string> module_paths(std::string_view list);

}  // namespace imgroot::init

// The first step of PID 1: the API filesystems.
#pragma once

#include <string>

#include "base/error.h"

namespace imgroot::init {

// /dev (devtmpfs), /proc, /sys, /run. An error names the first that failed;
// the ones already mounted stay (there is nothing better to do without them).
Status mount_api_filesystems();

}  // namespace imgroot::init

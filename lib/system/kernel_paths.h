// Where the kernel's view of mounts and block devices is read. The state
// and provision modules extend it with their own files; tests point every
// path at fixtures.
#pragma once

#include <string>

namespace imgroot {

struct KernelPaths {
  std::string mountinfo = "/proc/self/mountinfo";
  std::string sys_block = "/sys/block";
};

}  // namespace imgroot

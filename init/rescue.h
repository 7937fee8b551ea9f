// When nothing can be booted: say so and keep PID 1 alive.
#pragma once

#include <string>

namespace imgroot::init {

// Log 'reason', then run /bin/sh on the console if the initramfs has one
// (again whenever it exits), else wait forever. Never returns: PID 1 exiting
// would panic the kernel.
[[noreturn]] void rescue(const std::string& reason);

}  // namespace imgroot::init

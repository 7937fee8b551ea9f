// Running a helper program (mkfs.*, grub-mkimage, mtools) to completion,
// its output captured for the error message instead of printed.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace imgroot {

struct RunOptions {
  // NAME=VALUE settings added to (or replacing those of) the environment
  // the program inherits.
  std::vector<std::pair<std::string, std::string>> env;
};

// Run argv[0] (looked up in PATH, then /usr/sbin and /sbin) with stdin from
// /dev/null, wait for it, and return what it wrote to stdout and stderr.
// Fails with "run PROGRAM: exit status N: <its last lines>" when it does
// not exit 0, and with ENOENT when there is no such program.
Result<std::string> run_program(const std::vector<std::string>& argv, const RunOptions& options = {});

}  // namespace imgroot

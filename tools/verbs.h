// The table of verbs. Each verb lives in its own verb_<name>.cc.
#pragma once

#include <span>

#include "cli.h"

namespace imgroot::cli {

std::span<const Verb> verbs();

int run_initramfs(const std::vector<std::string>& args);

}  // namespace imgroot::cli

// The table of verbs. Each verb lives in its own verb_<name>.cc.
#pragma once

#include <span>

#include "cli.h"

namespace imgroot::cli {

std::span<const Verb> verbs();

int run_initramfs(const std::vector<std::string>& args);
int run_stage(const std::vector<std::string>& args);
int run_publish(const std::vector<std::string>& args);
int run_key(const std::vector<std::string>& args);   // verb_key.cc
int run_sign(const std::vector<std::string>& args);  // verb_key.cc
int run_revert(const std::vector<std::string>& args);
int run_status(const std::vector<std::string>& args);
int run_mark_good(const std::vector<std::string>& args);  // verb_mark.cc
int run_mark_bad(const std::vector<std::string>& args);   // verb_mark.cc
int run_assess(const std::vector<std::string>& args);
int run_log(const std::vector<std::string>& args);
int run_grub(const std::vector<std::string>& args);
int run_provision(const std::vector<std::string>& args);
int run_diff(const std::vector<std::string>& args);
int run_try(const std::vector<std::string>& args);
int run_host(const std::vector<std::string>& args);

}  // namespace imgroot::cli

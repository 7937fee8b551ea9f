// The module closure of a list of requested modules and the order to load
// it in: hard dependencies (modules.dep) and "pre:" soft dependencies before
// a module, "post:" soft dependencies after it. A name may be a module, a
// builtin (skipped: the kernel has it already) or an alias, which stands for
// every module it matches (crypto-crc32c is both crc32c_intel and
// crc32c_generic: the kernel picks the best one that loads).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "initramfs/module_index.h"

namespace imgroot::initramfs {

// What one name stands for: modules (sorted) and/or a builtin.
struct NameResolution {
  std::vector<std::string> modules;  // normalized names present in modules.dep
  bool builtin = false;
  bool found() const { return builtin || !modules.empty(); }
};

NameResolution resolve_name(const ModuleIndex& index, std::string_view name);

struct LoadOrder {
  std::vector<std::string> paths;  // as in modules.dep, each after what it needs
  // Things worth telling the operator that do not stop the build: soft
  // dependencies that name nothing, dependency cycles that were cut.
  std::vector<std::string> notes;
};

// `requested` is a set: its order and repetitions do not change the result,
// which is the same for the same index and names. A requested name that is
// neither a module, a builtin nor an alias is an error naming it and
// `kernel_release`.
Result<LoadOrder> resolve_load_order(const ModuleIndex& index,
                                     std::span<const std::string> requested,
                                     std::string_view kernel_release);

}  // namespace imgroot::initramfs

// What depmod and the kernel build say about one kernel's modules, read from
// the text files in /lib/modules/<release>/: modules.dep (path and hard
// dependencies), modules.softdep ("pre:" and "post:" soft dependencies),
// modules.alias and modules.builtin.modinfo (alias patterns), and
// modules.builtin (modules compiled into the kernel).
//
// Module names are normalized: '-' and '_' are the same character, as for
// modprobe ("crc32c-intel" is "crc32c_intel"); in alias patterns only
// outside [...] brackets.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "boot/module_table.h"

namespace imgroot::initramfs {

// normalize_module_name and module_name_of_path are in boot/module_table.h
// (the init names modules too).

struct ModuleIndex {
  struct Module {
    std::string path;               // as written in modules.dep, usually relative
    std::vector<std::string> deps;  // normalized names
  };
  struct Softdep {
    std::vector<std::string> pre;   // names or aliases, normalized
    std::vector<std::string> post;
  };

  std::map<std::string, Module> modules;      // by normalized name
  std::map<std::string, Softdep> softdeps;    // by normalized name
  std::set<std::string> builtin;              // normalized names
  std::multimap<std::string, std::string> exact_aliases;  // alias -> module
  std::vector<std::pair<std::string, std::string>> wildcard_aliases;  // pattern -> module
};

// Each parser adds what it understands to `index` and ignores comments and
// lines it has no use for; `file` names the source in error messages.
Status parse_modules_dep(std::string_view text, ModuleIndex& index,
                         std::string_view file = "modules.dep");
void parse_modules_softdep(std::string_view text, ModuleIndex& index);
void parse_modules_alias(std::string_view text, ModuleIndex& index);
void parse_modules_builtin(std::string_view text, ModuleIndex& index);
// NUL-separated "module.key=value" records; the aliases of builtin modules.
void parse_modules_builtin_modinfo(std::string_view text, ModuleIndex& index);

// Read the index from an open /lib/modules/<release> directory. modules.dep
// must exist (run depmod first, see depmod.h); the other files are optional.
Result<ModuleIndex> load_module_index(int modules_dir);

}  // namespace imgroot::initramfs

// The initramfs's table of kernel modules: what imgroot-init may load, in
// which order, and for which device or filesystem. The builder
// (initramfs/build.cc) resolves at build time what kmod and udev resolve at
// boot — hard and soft dependencies, aliases — into this one small text
// file, so the init needs neither modules.dep nor kmod (docs/initramfs.md,
// "Modules by need"):
//
//   module NAME PATH...    load NAME: these paths, in order, NAME's own last
//                          but for its "post:" soft dependencies
//   alias PATTERN NAME     a device's modalias (an fnmatch pattern, as in
//                          modules.alias) or a name such as fs-ext4 that
//                          NAME serves
//
// Fields are separated by single spaces (no field holds one); '#' starts a
// comment line.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgroot {

struct ModuleTable {
  struct Alias {
    std::string pattern;
    std::string module;
    // The pattern's text before its first wildcard: a modalias that does not
    // start with it cannot match, which spares most fnmatch calls.
    std::string literal_prefix;
  };
  std::map<std::string, std::vector<std::string>> load_paths;  // by module name
  std::vector<Alias> aliases;                                   // in the file's order

  void add_alias(std::string pattern, std::string module);
};

// An error names the line; every alias must name a module of the table.
Result<ModuleTable> parse_module_table(std::string_view text);
std::string format_module_table(const ModuleTable& table);

// Module names: '-' and '_' are the same character ("crc32c-intel" is
// "crc32c_intel"), and "kernel/fs/ext4/ext4.ko" (or .ko.xz, .ko.zst) is "ext4".
std::string normalize_module_name(std::string_view name);
std::string module_name_of_path(std::string_view path);

// modprobe's rule for aliases and the names looked up with them: '-' is '_'
// except inside a [...] class ("scsi:t-0x00" is "scsi:t_0x00", "fs-ext4" is
// "fs_ext4"). The table holds normalized patterns.
std::string normalize_alias(std::string_view alias);

// The modules with an alias matching 'name' (a modalias such as
// "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00", or "fs-ext4"),
// normalized and matched as kmod does (fnmatch, no flags): sorted, each once.
std::vector<std::string> modules_for(const ModuleTable& table, std::string_view name);

}  // namespace imgroot

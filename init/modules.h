// Kernel modules by need, as udev's coldplug loads them, without udev or
// kmod: the modalias of every device under /sys/bus/*/devices/ is matched
// against the initramfs's module table (boot/module_table.h) and each match
// is loaded with what it needs; a filesystem's module, the loop driver's or
// the overlay's when the core library is about to use it
// (system/module_request.h); the modules of --add-modules first, at every
// boot. No threads: PID 1 loads one module at a time (docs/initramfs.md,
// "Modules by need", says why that is enough).
#pragma once

#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "boot/module_table.h"

namespace imgroot::init {

struct ModuleNeed {
  std::string module;
  std::string reason;  // the modalias or name it was loaded for
};

// The modules 'names' (modaliases, "fs-ext4"...) need, each once, in the
// order of 'names' and then by module name, leaving out those in 'done'.
std::vector<ModuleNeed> modules_needed(const ModuleTable& table,
                                       std::span<const std::string> names,
                                       const std::set<std::string>& done);

class ModuleLoader {
 public:
  // Read the table and the list from the initramfs. Without a table (a kernel
  // with everything built in, or run inside dracut's initramfs, whose udev
  // loads modules) every call below does nothing.
  static ModuleLoader from_initramfs();

  // Make this loader the core library's (system/module_request.h). It must
  // outlive every mount and loop device the init makes.
  void install();
  void load_forced();
  // Match the modalias of every device not matched before and load what
  // they need, again while that makes new devices appear. True when it
  // loaded something.
  bool coldplug();
  void load_for(std::string_view name);

  // One line for the log: what was loaded, why, and how long it took;
  // empty without a table.
  std::string summary() const;

 private:
  void load(const ModuleNeed& need);
  void load_file(const std::string& path);  // once; counts and reports

  ModuleTable table_;
  std::vector<std::string> forced_;
  std::set<std::string> done_;         // modules tried, loaded or not
  std::set<std::string> paths_done_;   // files given to the kernel
  std::set<std::string> names_seen_;   // modaliases and names already matched
  std::vector<ModuleNeed> loaded_;     // what was asked for, in order
  int files_loaded_ = 0;
  int files_failed_ = 0;
  long long busy_ms_ = 0;
};

}  // namespace imgroot::init

// Kernel modules by need, as udev's coldplug loads them, without udev or
// kmod: the modalias of every device under /sys/bus/*/devices/ is matched
// against the initramfs's module table (boot/module_table.h) and each match
// is loaded with what it needs; a filesystem's module, the loop driver's or
// the overlay's when the core library is about to use it
// (system/module_request.h); the modules of --add-modules first, at every
// boot. No threads in PID 1: the devices' modules load in child processes,
// one a module, so that a driver whose init waits for its hardware (an IDE
// or SAS controller probing empty ports) does not hold up the boot disk's
// (docs/initramfs.md, "Modules by need").
#pragma once

#include <sys/types.h>

#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "boot/module_table.h"
#include "system/fd.h"

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
  // Match the modalias of every device not matched before and start
  // loading what they need, each module in a child process; again while
  // that makes new devices appear. Reaps the loads that have finished.
  void coldplug();
  // Load what 'name' ("fs-ext4", "devname:loop-control") needs, here and
  // now: the caller is about to use it.
  void load_for(std::string_view name);
  // Reap the child loads that have finished.
  void collect();
  // No child load is running (after reaping those that finished).
  bool settled() {
    collect();
    return loading_.empty();
  }
  // Sleep up to 'ms', less when a child load finishes first (its driver
  // may have made the devices looked for).
  void wait_a_little(int ms);

  // One line for the log: what was loaded, why, how long it took and what
  // is still loading (those children outlive the switch of root; the
  // image's init reaps them); empty without a table.
  std::string summary() const;

 private:
  struct Loading {
    pid_t pid;
    Fd pidfd;  // readable once the child has exited
    std::vector<std::string> paths;
  };

  void start(const ModuleNeed& need);  // in a child process
  void load(const ModuleNeed& need);   // here
  void load_file(const std::string& path);  // once; counts and reports
  void finished(const std::vector<std::string>& paths);  // by a child
  void began();

  ModuleTable table_;
  std::vector<std::string> forced_;
  std::set<std::string> done_;          // modules asked for, loaded or not
  std::set<std::string> paths_loaded_;  // files the kernel took
  std::set<std::string> paths_failed_;  // files it did not
  std::set<std::string> names_seen_;    // modaliases and names already matched
  std::vector<ModuleNeed> loaded_;      // what was asked for, in order
  std::vector<Loading> loading_;        // child loads not reaped yet
  long long first_ms_ = -1;  // when the first load began
  long long last_ms_ = -1;   // when the last one known to be done ended
};

}  // namespace imgroot::init

// The standalone initramfs: imgroot-init as /init, the directories it mounts
// on, /dev/console, the module closure of one kernel with the table that
// says which to load for which device (boot/module_table.h) and the list of
// those loaded at every boot, optionally a static busybox for the rescue
// shell. docs/initramfs.md describes the layout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgroot::initramfs {

struct InitramfsSpec {
  std::string init;                    // file on this machine, becomes /init
  std::optional<std::string> busybox;  // becomes /bin/busybox, with /bin/sh -> busybox
  std::string modules_root = "/";      // modules are in ROOT/lib/modules/RELEASE
  std::string kernel_release;
  // What the init may load when a device or filesystem needs it; builtins
  // are skipped.
  std::vector<std::string> modules;
  // What it loads at every boot, first (--add-modules): also included.
  std::vector<std::string> forced;
  uint32_t mtime = 0;                  // of every entry
};

struct Initramfs {
  std::string cpio;                     // uncompressed newc archive
  std::vector<std::string> modules;     // every module's path, in a valid load order
  std::vector<std::string> forced;      // the lines of modules.load
  std::vector<std::string> notes;       // see LoadOrder::notes
};

// Collect everything into an archive. Needs modules.dep (see depmod.h). The
// same spec and files give the same bytes.
Result<Initramfs> assemble_initramfs(const InitramfsSpec& spec);

// Write `bytes` to `path` so that a crash leaves the old file or the new one.
Status write_initramfs(const std::string& path, const std::string& bytes);

}  // namespace imgroot::initramfs

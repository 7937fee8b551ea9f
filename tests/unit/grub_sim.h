// A small interpreter for the GRUB script grub/config.cc emits, for the
// unit tests: the decisions of the script (which file, which arguments,
// what goes into grubenv) run against the real rotation code and grubenv
// format. It knows exactly the subset the generator uses (one command a
// line; if/elif/else/fi; function; menuentry; set, [ ], search, load_env,
// save_env, echo, loopback, linux, initrd) and throws on anything else, so
// a script that strays from the subset fails the tests instead of being
// half-understood. The QEMU tests (tests/qemu/grub) run the script in GRUB.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "grub/env.h"

namespace imgroot::test {

class GrubSim {
 public:
  explicit GrubSim(const std::string& script);
  ~GrubSim();

  // The world as GRUB sees it.
  std::set<std::string> files;        // names in the host partition's root
  std::set<std::string> unloadable;   // images whose kernel GRUB cannot load
  std::optional<grub::Env> grubenv;   // EFI-BOOT's grub/grubenv; nullopt: no file
  bool grubenv_writable = true;       // save_env works

  struct Boot {
    std::string entry;               // the menu entry that booted
    std::string image;               // the file whose kernel was loaded; empty: none
    std::vector<std::string> args;   // the kernel arguments
    std::string cmdline() const;     // args joined by spaces
  };

  // GRUB's start: run the script, then the menu entry 'entry' (default: the
  // one $default names) and, when it loads no kernel, the $fallback entry.
  Boot boot(const std::optional<std::string>& entry = std::nullopt);

  // After boot(): the menu entries defined, by id, and a variable's value.
  const std::vector<std::string>& entries() const { return entry_order_; }
  std::string var(const std::string& name) const;
  const std::vector<std::string>& echoed() const { return echoed_; }

  struct Node;

 private:
  using Block = std::vector<Node>;
  bool run_block(const Block& block);
  bool run_node(const Node& node);
  bool run_command(const std::string& line);
  bool test(const std::vector<std::string>& args) const;
  std::vector<std::string> expand(const std::string& line) const;
  std::string lookup(const std::string& name) const;
  bool file_exists(const std::string& path) const;

  std::unique_ptr<Block> program_;
  std::map<std::string, const Block*> functions_;
  std::map<std::string, const Block*> menu_;
  std::vector<std::string> entry_order_;
  std::map<std::string, std::string> vars_;
  std::vector<std::vector<std::string>> positional_;
  std::map<std::string, std::string> loops_;  // loop device -> image file
  std::vector<std::string> echoed_;
  Boot current_;
  bool kernel_loaded_ = false;
};

}  // namespace imgroot::test

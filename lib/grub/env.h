// GRUB's environment block (grubenv): the 1024-byte file GRUB's load_env
// reads and save_env rewrites in place. Format, as GRUB's lib/envblk.c has it:
//
//   # GRUB Environment Block\n      the signature, always first
//   name=value\n                    one variable a line; '\' and newline in a
//                                   value are escaped with a '\'
//   #######...                      '#' padding up to the block's size
//
// Lines starting with '#' are comments. GRUB never grows or shrinks the file
// (it writes the blocks the file already has), so the size is kept.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace imgroot::grub {

inline constexpr std::string_view kEnvSignature = "# GRUB Environment Block\n";
inline constexpr std::size_t kEnvBlockSize = 1024;  // what grub-editenv creates

// The variables of a block, in the order they appear.
class Env {
 public:
  std::optional<std::string> get(std::string_view name) const;
  // Replaces the value of an existing variable in place, else appends.
  void set(std::string_view name, std::string value);
  void erase(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& vars() const { return vars_; }
  bool operator==(const Env&) const = default;

 private:
  std::vector<std::pair<std::string, std::string>> vars_;
};

// A name GRUB's save_env and the format can carry: not empty, no '=',
// no newline, not starting with '#'.
bool valid_env_name(std::string_view name);

// Parse a whole block. Fails (naming what is wrong) on a missing
// signature or a variable line that is cut off; never reads out of bounds.
Result<Env> parse_env(std::string_view block);

// Format a block of exactly 'size' bytes. Fails when the variables do not
// fit or a name is not valid.
Result<std::string> format_env(const Env& env, std::size_t size = kEnvBlockSize);

}  // namespace imgroot::grub

// The initramfs's module table as imgroot-init reads it, and kmod's alias
// matching: lib/boot/module_table.cc.
#include <algorithm>
#include <string>

#include "base/lines.h"
#include "boot/module_table.h"
#include "fuzz.h"

using namespace imgroot;
using imgroot::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  for (std::string_view line : lines_of(text)) {
    const std::string once = normalize_alias(line);
    check(normalize_alias(once) == once, "normalizing an alias twice changes nothing");
  }
  auto table = parse_module_table(text);
  if (!table) return 0;
  for (const auto& alias : table->aliases)
    check(table->load_paths.contains(alias.module), "every alias names a module of the table");
  const std::string written = format_module_table(*table);
  auto again = parse_module_table(written);
  check(again.has_value(), "a written table reads back");
  check(again->load_paths == table->load_paths, "the load orders survive writing and reading");
  check(again->aliases.size() == table->aliases.size(), "every alias survives");
  for (std::size_t i = 0; i < table->aliases.size(); ++i)
    check(again->aliases[i].pattern == table->aliases[i].pattern &&
              again->aliases[i].module == table->aliases[i].module,
          "each alias survives in its place");
  check(format_module_table(*again) == written, "writing is a fixed point");
  // Every line of the input as a modalias: what matches is sorted, once, and in the table.
  for (std::string_view line : lines_of(text)) {
    const auto found = modules_for(*table, line);
    check(std::is_sorted(found.begin(), found.end()) &&
              std::adjacent_find(found.begin(), found.end()) == found.end(),
          "the modules found are sorted and each once");
    for (const auto& m : found) check(table->load_paths.contains(m), "a match is a module of the table");
  }
  return 0;
}

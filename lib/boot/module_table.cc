#include "boot/module_table.h"

#include <fnmatch.h>

#include <algorithm>

#include "base/lines.h"

namespace imgroot {

std::string normalize_alias(std::string_view alias) {
  std::string out(alias);
  bool in_class = false;
  for (char& c : out) {
    if (c == '[') in_class = true;
    else if (c == ']') in_class = false;
    else if (c == '-' && !in_class) c = '_';
  }
  return out;
}

std::string normalize_module_name(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c == '-') c = '_';
  return out;
}

std::string module_name_of_path(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t ko = base.find(".ko");
  if (ko != std::string_view::npos) base = base.substr(0, ko);
  return normalize_module_name(base);
}

void ModuleTable::add_alias(std::string pattern, std::string module) {
  std::string prefix = pattern.substr(0, pattern.find_first_of("*?["));
  aliases.push_back({std::move(pattern), std::move(module), std::move(prefix)});
}

Result<ModuleTable> parse_module_table(std::string_view text) {
  ModuleTable table;
  std::vector<std::pair<size_t, std::string>> alias_targets;  // line number, module
  size_t number = 0;
  for (std::string_view line : lines_of(text)) {
    ++number;
    const auto words = words_of(line);
    if (words.empty() || words.front().starts_with('#')) continue;
    auto bad = [&](const std::string& why) {
      return fail("read module table line " + std::to_string(number) + ": " + why +
                  "; rebuild the initramfs with `imgroot initramfs`");
    };
    if (words.front() == "module") {
      if (words.size() < 3) return bad("a module needs a name and at least one path");
      const std::string name(words[1]);
      auto [it, added] = table.load_paths.try_emplace(name, words.begin() + 2, words.end());
      if (!added) return bad("module " + quoted(name) + " appears twice");
    } else if (words.front() == "alias") {
      if (words.size() != 3) return bad("an alias needs a pattern and a module");
      alias_targets.emplace_back(number, std::string(words[2]));
      table.add_alias(std::string(words[1]), std::string(words[2]));
    } else {
      return bad("unknown record " + quoted(std::string(words.front())));
    }
  }
  for (const auto& [line, module] : alias_targets)
    if (!table.load_paths.contains(module))
      return fail("read module table line " + std::to_string(line) + ": alias for " +
                  quoted(module) + ", which has no module line; rebuild the initramfs");
  return table;
}

std::string format_module_table(const ModuleTable& table) {
  std::string out;
  for (const auto& [name, paths] : table.load_paths) {
    out += "module " + name;
    for (const auto& p : paths) out += " " + p;
    out += "\n";
  }
  for (const auto& a : table.aliases) out += "alias " + a.pattern + " " + a.module + "\n";
  return out;
}

std::vector<std::string> modules_for(const ModuleTable& table, std::string_view name) {
  const std::string subject = normalize_alias(name);
  std::vector<std::string> found;
  for (const auto& a : table.aliases)
    if (subject.starts_with(a.literal_prefix) &&
        ::fnmatch(a.pattern.c_str(), subject.c_str(), 0) == 0)
      found.push_back(a.module);
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

}  // namespace imgroot

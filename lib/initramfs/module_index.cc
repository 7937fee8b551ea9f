#include "initramfs/module_index.h"

#include <algorithm>
#include <array>

#include "base/lines.h"
#include "boot/module_table.h"
#include "system/file.h"

namespace imgroot::initramfs {

namespace {

bool is_comment(std::string_view line) {
  auto words = words_of(line);
  return words.empty() || words[0].starts_with('#');
}

void add_alias(ModuleIndex& index, std::string_view alias, std::string_view module) {
  std::string pattern = normalize_alias(alias);
  std::string target = normalize_module_name(module);
  if (pattern.find_first_of("*?[") == std::string::npos)
    index.exact_aliases.emplace(std::move(pattern), std::move(target));
  else
    index.wildcard_aliases.emplace_back(std::move(pattern), std::move(target));
}

}  // namespace

Status parse_modules_dep(std::string_view text, ModuleIndex& index, std::string_view file) {
  size_t number = 0;
  for (std::string_view line : lines_of(text)) {
    ++number;
    if (is_comment(line)) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return fail("parse " + std::string(file) + " line " + std::to_string(number) +
                  ": no ':' after the module path");
    auto path_words = words_of(line.substr(0, colon));
    if (path_words.size() != 1)
      return fail("parse " + std::string(file) + " line " + std::to_string(number) +
                  ": expected one module path before ':'");
    ModuleIndex::Module module{.path = std::string(path_words[0]), .deps = {}};
    for (std::string_view dep : words_of(line.substr(colon + 1)))
      module.deps.push_back(module_name_of_path(dep));
    // depmod writes one line per name; should a name repeat, the first wins
    // as it does for modprobe.
    index.modules.emplace(module_name_of_path(path_words[0]), std::move(module));
  }
  return {};
}

void parse_modules_softdep(std::string_view text, ModuleIndex& index) {
  for (std::string_view line : lines_of(text)) {
    auto words = words_of(line);
    if (words.size() < 3 || words[0] != "softdep") continue;
    auto& softdep = index.softdeps[normalize_module_name(words[1])];
    // Like modprobe, names before the first "pre:" or "post:" are ignored
    // (some modules declare MODULE_SOFTDEP("gcm") without a "pre:").
    std::vector<std::string>* list = nullptr;
    for (size_t i = 2; i < words.size(); ++i) {
      if (words[i] == "pre:") list = &softdep.pre;
      else if (words[i] == "post:") list = &softdep.post;
      else if (list) list->push_back(normalize_alias(words[i]));
    }
  }
}

void parse_modules_alias(std::string_view text, ModuleIndex& index) {
  for (std::string_view line : lines_of(text)) {
    auto words = words_of(line);
    if (words.size() == 3 && words[0] == "alias") add_alias(index, words[1], words[2]);
  }
}

void parse_modules_builtin(std::string_view text, ModuleIndex& index) {
  for (std::string_view line : lines_of(text)) {
    auto words = words_of(line);
    if (words.size() == 1 && !words[0].starts_with('#'))
      index.builtin.insert(module_name_of_path(words[0]));
  }
}

void parse_modules_builtin_modinfo(std::string_view text, ModuleIndex& index) {
  while (!text.empty()) {
    size_t end = text.find('\0');
    if (end == std::string_view::npos) end = text.size();
    std::string_view record = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    size_t dot = record.find('.');
    size_t eq = record.find('=');
    if (dot == std::string_view::npos || eq == std::string_view::npos || eq < dot) continue;
    std::string_view module = record.substr(0, dot);
    index.builtin.insert(normalize_module_name(module));
    if (record.substr(dot + 1, eq - dot - 1) == "alias")
      add_alias(index, record.substr(eq + 1), module);
  }
}

Result<ModuleIndex> load_module_index(int modules_dir) {
  ModuleIndex index;
  auto dep = read_file_at(modules_dir, "modules.dep");
  if (!dep) return std::unexpected(std::move(dep.error()));
  if (auto st = parse_modules_dep(*dep, index); !st) return std::unexpected(std::move(st.error()));

  using Parser = void (*)(std::string_view, ModuleIndex&);
  const std::array<std::pair<const char*, Parser>, 4> optional_files{{
      {"modules.softdep", parse_modules_softdep},
      {"modules.alias", parse_modules_alias},
      {"modules.builtin", parse_modules_builtin},
      {"modules.builtin.modinfo", parse_modules_builtin_modinfo},
  }};
  for (const auto& [name, parse] : optional_files) {
    auto exists = exists_at(modules_dir, name);
    if (!exists) return std::unexpected(std::move(exists.error()));
    if (!*exists) continue;
    auto text = read_file_at(modules_dir, name);
    if (!text) return std::unexpected(std::move(text.error()));
    parse(*text, index);
  }
  return index;
}

}  // namespace imgroot::initramfs

// The kernel's module index files and the load order made from them:
// lib/initramfs/module_index.cc, lib/initramfs/modules.cc. The input is
// modules.dep, modules.softdep, modules.alias, modules.builtin,
// modules.builtin.modinfo and a list of requested names, separated by
// '\x1e' (seeds: tests/fuzz/make_modules_seed.sh); without a list, every
// module is requested.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fuzz.h"
#include "initramfs/module_index.h"
#include "initramfs/modules.h"

using namespace imgroot;
using namespace imgroot::initramfs;
using imgroot::fuzz::check;

namespace {

constexpr std::size_t kMaxRequested = 64;

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t p = 0;
  for (;;) {
    std::size_t end = text.find(sep, p);
    if (end == std::string_view::npos) {
      parts.push_back(text.substr(p));
      return parts;
    }
    parts.push_back(text.substr(p, end - p));
    p = end + 1;
  }
}

void check_order(const ModuleIndex& index, const LoadOrder& order) {
  std::map<std::string, std::size_t> position;  // path -> index in the order
  for (std::size_t i = 0; i < order.paths.size(); ++i)
    check(position.emplace(order.paths[i], i).second, "each module is loaded once");
  std::set<std::string> known;
  for (const auto& [name, module] : index.modules) known.insert(module.path);
  for (const auto& p : order.paths) check(known.contains(p), "only modules.dep's paths are loaded");
  bool cycles = std::ranges::any_of(order.notes, [](const std::string& n) { return n.starts_with("dependency cycle"); });
  if (cycles) return;
  for (const auto& [name, module] : index.modules) {
    auto self = position.find(module.path);
    if (self == position.end()) continue;
    for (const auto& dep : module.deps) {
      auto d = index.modules.find(dep);
      check(d != index.modules.end(), "a loaded module's dependencies are modules");
      auto at = position.find(d->second.path);
      check(at != position.end() && at->second < self->second, "a dependency loads first");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = split(fuzz::as_text(data, size), '\x1e');
  parts.resize(std::max<std::size_t>(parts.size(), 6));

  ModuleIndex index;
  if (!parse_modules_dep(parts[0], index)) return 0;
  parse_modules_softdep(parts[1], index);
  parse_modules_alias(parts[2], index);
  parse_modules_builtin(parts[3], index);
  parse_modules_builtin_modinfo(parts[4], index);
  for (const auto& [name, module] : index.modules) {
    check(normalize_module_name(name) == name, "modules are known by normalized names");
    for (const auto& dep : module.deps) check(normalize_module_name(dep) == dep, "dependencies are normalized");
  }

  std::vector<std::string> requested;
  if (parts.size() > 5 && !parts[5].empty()) {
    for (auto word : split(parts[5], '\n'))
      if (!word.empty() && requested.size() < kMaxRequested) requested.emplace_back(word);
  } else {
    for (const auto& [name, module] : index.modules)
      if (requested.size() < kMaxRequested) requested.push_back(name);
  }

  auto order = resolve_load_order(index, requested, "fuzz");
  // The request is a set: reversed and repeated, the answer is the same.
  std::vector<std::string> again(requested.rbegin(), requested.rend());
  again.insert(again.end(), requested.begin(), requested.end());
  auto order2 = resolve_load_order(index, again, "fuzz");
  check(bool(order) == bool(order2), "order and repetition of the request do not matter");
  if (!order) return 0;
  check(order->paths == order2->paths && order->notes == order2->notes,
        "order and repetition of the request give the same load order");
  check_order(index, *order);
  return 0;
}

#include "initramfs/modules.h"

#include <fnmatch.h>

#include <algorithm>
#include <map>

namespace imgroot::initramfs {

NameResolution resolve_name(const ModuleIndex& index, std::string_view raw_name) {
  NameResolution result;
  const std::string name = normalize_module_name(raw_name);
  if (index.modules.contains(name)) {
    result.modules.push_back(name);
    return result;
  }
  if (index.builtin.contains(name)) {
    result.builtin = true;
    return result;
  }
  auto add_target = [&](const std::string& target) {
    if (index.modules.contains(target)) result.modules.push_back(target);
    else if (index.builtin.contains(target)) result.builtin = true;
  };
  auto [first, last] = index.exact_aliases.equal_range(name);
  for (auto it = first; it != last; ++it) add_target(it->second);
  for (const auto& [pattern, target] : index.wildcard_aliases)
    if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0) add_target(target);
  std::sort(result.modules.begin(), result.modules.end());
  result.modules.erase(std::unique(result.modules.begin(), result.modules.end()),
                       result.modules.end());
  return result;
}

namespace {

// A depth-first walk that emits a module after everything it needs.
class Resolver {
 public:
  explicit Resolver(const ModuleIndex& index) : index_(index) {}

  Status visit(const std::string& name) {
    auto state = state_.find(name);
    if (state != state_.end()) {
      if (state->second == State::kVisiting)
        order_.notes.push_back("dependency cycle through " + quoted(name) +
                               ": loading it before the module that needs it");
      return {};
    }
    auto module = index_.modules.find(name);
    if (module == index_.modules.end())
      return fail("find module " + quoted(name) + ": named in modules.dep but has no line there");
    state_[name] = State::kVisiting;

    const ModuleIndex::Softdep* softdep = nullptr;
    if (auto it = index_.softdeps.find(name); it != index_.softdeps.end()) softdep = &it->second;

    if (softdep)
      if (auto st = visit_soft(name, softdep->pre); !st) return st;
    std::vector<std::string> deps = module->second.deps;
    std::sort(deps.begin(), deps.end());
    for (const auto& dep : deps)
      if (auto st = visit(dep); !st) return st;

    state_[name] = State::kDone;
    order_.paths.push_back(module->second.path);

    if (softdep)
      if (auto st = visit_soft(name, softdep->post); !st) return st;
    return {};
  }

  LoadOrder take() { return std::move(order_); }

 private:
  enum class State { kVisiting, kDone };

  Status visit_soft(const std::string& owner, const std::vector<std::string>& names) {
    for (const auto& soft : names) {
      NameResolution r = resolve_name(index_, soft);
      if (!r.found())
        order_.notes.push_back("soft dependency " + quoted(soft) + " of " + quoted(owner) +
                               " is not a module, builtin or alias: skipped");
      for (const auto& target : r.modules)
        if (auto st = visit(target); !st) return st;
    }
    return {};
  }

  const ModuleIndex& index_;
  std::map<std::string, State> state_;
  LoadOrder order_;
};

}  // namespace

Result<LoadOrder> resolve_load_order(const ModuleIndex& index,
                                     std::span<const std::string> requested,
                                     std::string_view kernel_release) {
  // The list is a set: neither its order nor repetitions change the result.
  std::map<std::string, std::string> names;  // normalized -> as given
  for (const auto& name : requested) names.emplace(normalize_module_name(name), name);

  Resolver resolver(index);
  for (const auto& [normalized, name] : names) {
    NameResolution r = resolve_name(index, normalized);
    if (!r.found())
      return fail("find module " + quoted(name) + " for kernel " + std::string(kernel_release) +
                  ": not in modules.dep, modules.builtin or modules.alias");
    for (const auto& module : r.modules)
      if (auto st = resolver.visit(module); !st)
        return std::unexpected(std::move(st.error()).context("kernel " +
                                                             std::string(kernel_release)));
  }
  return resolver.take();
}

}  // namespace imgroot::initramfs

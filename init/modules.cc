#include "modules.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "base/layout.h"
#include "early.h"
#include "log.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/module_request.h"

namespace imgroot::init {

namespace {

constexpr const char* kBuses = "/sys/bus";
// Loading a driver makes new devices (virtio_pci makes the virtio devices,
// a SCSI host its disks): a few rounds reach every level a boot disk needs.
constexpr int kColdplugRounds = 8;

ModuleLoader* installed = nullptr;

void load_installed(std::string_view name) {
  if (installed) installed->load_for(name);
}

// The modalias of every device on every bus.
std::vector<std::string> device_modaliases() {
  std::vector<std::string> aliases;
  auto buses = Fd::open_dir(kBuses);
  if (!buses) return aliases;
  auto bus_names = list_dir(buses->get());
  if (!bus_names) return aliases;
  for (const auto& bus : *bus_names) {
    const std::string devices_path = std::string(kBuses) + "/" + bus + "/devices";
    auto devices = Fd::open_dir(devices_path);
    if (!devices) continue;
    auto device_names = list_dir(devices->get());
    if (!device_names) continue;
    for (const auto& device : *device_names) {
      auto alias = read_file_at(devices->get(), device + "/modalias");
      if (!alias) continue;  // most devices have none
      while (!alias->empty() && (alias->back() == '\n' || alias->back() == ' ')) alias->pop_back();
      if (!alias->empty()) aliases.push_back(std::move(*alias));
    }
  }
  return aliases;
}

}  // namespace

std::vector<ModuleNeed> modules_needed(const ModuleTable& table,
                                       std::span<const std::string> names,
                                       const std::set<std::string>& done) {
  std::vector<ModuleNeed> needs;
  std::set<std::string> chosen = done;
  for (const auto& name : names)
    for (auto& module : modules_for(table, name))
      if (chosen.insert(module).second) needs.push_back({std::move(module), name});
  return needs;
}

ModuleLoader ModuleLoader::from_initramfs() {
  ModuleLoader loader;
  auto text = read_file(initramfs_paths::kModuleTable);
  if (!text) return loader;
  auto table = parse_module_table(*text);
  if (!table) {
    warn(table.error().message + "; loading no module by need");
    return loader;
  }
  loader.table_ = std::move(*table);
  if (auto list = read_file(initramfs_paths::kModulesLoad)) loader.forced_ = module_paths(*list);
  return loader;
}

void ModuleLoader::install() {
  installed = this;
  install_module_loader(load_installed);
}

void ModuleLoader::load_forced() {
  const long long start = now_ms();
  for (const auto& path : forced_) {
    load_file(path);
    loaded_.push_back({module_name_of_path(path), "forced"});
  }
  busy_ms_ += now_ms() - start;
}

bool ModuleLoader::coldplug() {
  if (table_.load_paths.empty()) return false;
  bool loaded_any = false;
  for (int round = 0; round < kColdplugRounds; ++round) {
    std::vector<std::string> fresh;
    for (auto& alias : device_modaliases())
      if (names_seen_.insert(alias).second) fresh.push_back(std::move(alias));
    const auto needs = modules_needed(table_, fresh, done_);
    if (needs.empty()) break;
    for (const auto& need : needs) load(need);
    loaded_any = true;
  }
  return loaded_any;
}

void ModuleLoader::load_for(std::string_view name) {
  if (table_.load_paths.empty() || !names_seen_.insert(std::string(name)).second) return;
  const std::string names[] = {std::string(name)};
  for (const auto& need : modules_needed(table_, names, done_)) load(need);
}

void ModuleLoader::load(const ModuleNeed& need) {
  done_.insert(need.module);
  auto paths = table_.load_paths.find(need.module);
  if (paths == table_.load_paths.end()) return;
  const long long start = now_ms();
  for (const auto& path : paths->second) load_file(path);
  busy_ms_ += now_ms() - start;
  loaded_.push_back(need);
}

void ModuleLoader::load_file(const std::string& path) {
  if (!paths_done_.insert(path).second) return;
  auto fd = Fd::open(path, O_RDONLY | O_CLOEXEC);
  if (fd && (::syscall(SYS_finit_module, fd->get(), "", 0) == 0 || errno == EEXIST)) {
    ++files_loaded_;
    return;
  }
  // Some modules cannot load on every CPU (crc32c-intel without SSE4.2);
  // their generic twins in the same order cover for them.
  ++files_failed_;
  warn(fd ? Error::from_errno("load module " + quoted(path)).message : fd.error().message);
}

std::string ModuleLoader::summary() const {
  if (table_.load_paths.empty() && forced_.empty()) return "";
  std::string text = "loaded " + std::to_string(files_loaded_) + " modules in " +
                     std::to_string(busy_ms_) + " ms";
  if (files_failed_) text += " (" + std::to_string(files_failed_) + " failed)";
  for (size_t i = 0; i < loaded_.size(); ++i)
    text += (i ? ", " : ": ") + loaded_[i].module + " (" + loaded_[i].reason + ")";
  return text;
}

}  // namespace imgroot::init

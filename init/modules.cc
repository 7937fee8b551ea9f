#include "modules.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
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

void sleep_ms(int ms) {
  struct timespec ts {ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

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

void ModuleLoader::began() {
  if (first_ms_ < 0) first_ms_ = now_ms();
}

void ModuleLoader::load_forced() {
  for (const auto& path : forced_) {
    began();
    load_file(path);
    loaded_.push_back({module_name_of_path(path), "forced"});
  }
  if (!forced_.empty()) last_ms_ = now_ms();
}

void ModuleLoader::coldplug() {
  if (table_.load_paths.empty()) return;
  collect();
  for (int round = 0; round < kColdplugRounds; ++round) {
    std::vector<std::string> fresh;
    for (auto& alias : device_modaliases())
      if (names_seen_.insert(alias).second) fresh.push_back(std::move(alias));
    const auto needs = modules_needed(table_, fresh, done_);
    if (needs.empty()) break;
    for (const auto& need : needs) start(need);
  }
}

void ModuleLoader::load_for(std::string_view name) {
  if (table_.load_paths.empty() || !names_seen_.insert(std::string(name)).second) return;
  const std::string names[] = {std::string(name)};
  for (const auto& need : modules_needed(table_, names, done_)) load(need);
}

void ModuleLoader::start(const ModuleNeed& need) {
  done_.insert(need.module);
  auto paths = table_.load_paths.find(need.module);
  if (paths == table_.load_paths.end()) return;
  began();
  loaded_.push_back(need);
  // The files are opened before the fork: the switch of root empties the
  // initramfs, and a child still loading then keeps what it has open.
  std::vector<std::string> todo;
  std::vector<Fd> files;
  for (const auto& path : paths->second) {
    if (paths_loaded_.contains(path) || paths_failed_.contains(path)) continue;
    auto fd = Fd::open(path, O_RDONLY | O_CLOEXEC);
    if (!fd) {
      paths_failed_.insert(path);
      warn(fd.error().message);
      continue;
    }
    todo.push_back(path);
    files.push_back(std::move(*fd));
  }
  if (todo.empty()) return;
  const pid_t pid = ::fork();
  if (pid == 0) {
    // A module that another child is loading gives EEXIST once it is in.
    for (size_t i = 0; i < files.size(); ++i)
      if (::syscall(SYS_finit_module, files[i].get(), "", 0) != 0 && errno != EEXIST)
        warn(Error::from_errno("load module " + quoted(todo[i])).message);
    ::_exit(0);
  }
  Fd pidfd(pid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1);
  if (pid < 0) {
    warn(Error::from_errno("fork to load " + need.module).message + "; loading it here");
    for (const auto& path : todo) load_file(path);
    last_ms_ = now_ms();
    return;
  }
  loading_.push_back({pid, std::move(pidfd), std::move(todo)});
}

void ModuleLoader::load(const ModuleNeed& need) {
  done_.insert(need.module);
  auto paths = table_.load_paths.find(need.module);
  if (paths == table_.load_paths.end()) return;
  began();
  for (const auto& path : paths->second) load_file(path);
  last_ms_ = now_ms();
  loaded_.push_back(need);
}

void ModuleLoader::load_file(const std::string& path) {
  if (paths_loaded_.contains(path) || paths_failed_.contains(path)) return;
  auto fd = Fd::open(path, O_RDONLY | O_CLOEXEC);
  if (fd && (::syscall(SYS_finit_module, fd->get(), "", 0) == 0 || errno == EEXIST)) {
    paths_loaded_.insert(path);
    return;
  }
  // Some modules cannot load on every CPU (crc32c-intel without SSE4.2);
  // their generic twins in the same order cover for them.
  paths_failed_.insert(path);
  warn(fd ? Error::from_errno("load module " + quoted(path)).message : fd.error().message);
}

// What a child loaded is what the kernel now lists under /sys/module; it
// said itself what failed.
void ModuleLoader::finished(const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    struct stat st {};
    const std::string sysfs = "/sys/module/" + module_name_of_path(path);
    if (::stat(sysfs.c_str(), &st) == 0)
      paths_loaded_.insert(path);
    else if (!paths_loaded_.contains(path))
      paths_failed_.insert(path);
  }
  last_ms_ = now_ms();
}

void ModuleLoader::collect() {
  std::erase_if(loading_, [this](const Loading& child) {
    int status = 0;
    const pid_t reaped = ::waitpid(child.pid, &status, WNOHANG);
    if (reaped == 0) return false;  // still loading (ECHILD: reaped elsewhere)
    finished(child.paths);
    return true;
  });
}

void ModuleLoader::wait_a_little(int ms) {
  std::vector<pollfd> children;
  for (const auto& child : loading_)
    if (child.pidfd.get() >= 0) children.push_back({child.pidfd.get(), POLLIN, 0});
  if (children.empty()) {
    sleep_ms(ms);
    return;
  }
  (void)::poll(children.data(), children.size(), ms);
  collect();
}

std::string ModuleLoader::summary() const {
  if (table_.load_paths.empty() && forced_.empty()) return "";
  const long long span = first_ms_ < 0 ? 0 : std::max(last_ms_, first_ms_) - first_ms_;
  std::string text = "loaded " + std::to_string(paths_loaded_.size()) + " modules in " +
                     std::to_string(span) + " ms";
  if (!paths_failed_.empty()) text += " (" + std::to_string(paths_failed_.size()) + " failed)";
  for (size_t i = 0; i < loaded_.size(); ++i)
    text += (i ? ", " : ": ") + loaded_[i].module + " (" + loaded_[i].reason + ")";
  if (!loading_.empty()) {
    text += "; still loading";
    for (size_t i = 0; i < loading_.size(); ++i)
      text += (i ? ", " : ": ") + module_name_of_path(loading_[i].paths.back());
  }
  return text;
}

}  // namespace imgroot::init

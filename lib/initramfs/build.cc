#include "initramfs/build.h"

#include <array>

#include "base/layout.h"
#include "boot/module_table.h"
#include "initramfs/cpio.h"
#include "initramfs/depmod.h"
#include "initramfs/elf.h"
#include "initramfs/module_index.h"
#include "initramfs/modules.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::initramfs {

namespace {

// The mount points and folders imgroot-init expects to find.
constexpr std::array kDirectories{"/dev",
                                  "/proc",
                                  "/sys",
                                  "/run",
                                  initramfs_paths::kNewRoot,
                                  root_paths::kHostpart,
                                  "/etc",
                                  "/bin",
                                  "/lib/modules"};

// The kernel opens /dev/console for PID 1 before anyone mounts devtmpfs.
constexpr unsigned kConsoleMajor = 5, kConsoleMinor = 1;

Result<std::string> read_program(const std::string& path, const std::string& role) {
  auto content = read_file(path);
  if (!content) return std::unexpected(std::move(content.error()).context("read " + role));
  if (elf_needs_interpreter(*content))
    return fail("read " + role + " " + quoted(path) +
                ": dynamically linked, but the initramfs has no shared libraries");
  return content;
}

Status add_skeleton(CpioArchive& archive) {
  for (const char* dir : kDirectories)
    if (auto st = archive.add_directory(dir); !st) return st;
  return archive.add_char_device("/dev/console", 0600, kConsoleMajor, kConsoleMinor);
}

Status add_programs(CpioArchive& archive, const InitramfsSpec& spec) {
  auto init = read_program(spec.init, "init");
  if (!init) return std::unexpected(std::move(init.error()));
  if (auto st = archive.add_file("/init", std::move(*init), 0755); !st) return st;
  if (!spec.busybox) return {};
  auto busybox = read_program(*spec.busybox, "busybox");
  if (!busybox) return std::unexpected(std::move(busybox.error()));
  if (auto st = archive.add_file("/bin/busybox", std::move(*busybox), 0755); !st) return st;
  return archive.add_symlink(initramfs_paths::kShell, "busybox");
}

// depmod writes paths relative to the modules directory, except for modules
// outside it, which keep their absolute path (below the modules root).
std::string path_in_initramfs(const InitramfsSpec& spec, const std::string& path) {
  return path.starts_with('/') ? path : "/lib/modules/" + spec.kernel_release + "/" + path;
}

// Copy the modules in `order` from the modules root.
Status add_modules(CpioArchive& archive, const InitramfsSpec& spec, const LoadOrder& order) {
  auto dir = Fd::open_dir(modules_dir(spec.modules_root, spec.kernel_release));
  if (!dir) return std::unexpected(std::move(dir.error()));
  auto root = Fd::open_dir(spec.modules_root);
  if (!root) return std::unexpected(std::move(root.error()));
  for (const auto& path : order.paths) {
    auto content = path.starts_with('/') ? read_file_at(root->get(), path.substr(1))
                                         : read_file_at(dir->get(), path);
    if (!content) return std::unexpected(std::move(content.error()).context("copy module"));
    if (auto st = archive.add_file(path_in_initramfs(spec, path), std::move(*content), 0644); !st)
      return st;
  }
  return {};
}

// Every module of 'all' with its own load order, and every alias that names
// one of them: the init resolves nothing itself.
Result<ModuleTable> table_for(const ModuleIndex& index, const InitramfsSpec& spec,
                              const LoadOrder& all) {
  ModuleTable table;
  for (const auto& path : all.paths) {
    const std::string name = module_name_of_path(path);
    const std::vector<std::string> one{name};
    auto order = resolve_load_order(index, one, spec.kernel_release);
    if (!order) return std::unexpected(std::move(order.error()));
    auto& paths = table.load_paths[name];
    for (const auto& p : order->paths) paths.push_back(path_in_initramfs(spec, p));
  }
  for (const auto& [alias, module] : index.exact_aliases)
    if (table.load_paths.contains(module)) table.add_alias(alias, module);
  for (const auto& [pattern, module] : index.wildcard_aliases)
    if (table.load_paths.contains(module)) table.add_alias(pattern, module);
  return table;
}

std::string lines(const std::vector<std::string>& paths) {
  std::string text;
  for (const auto& p : paths) text += p + "\n";
  return text;
}

}  // namespace

Result<Initramfs> assemble_initramfs(const InitramfsSpec& spec) {
  auto dir = Fd::open_dir(modules_dir(spec.modules_root, spec.kernel_release));
  if (!dir) return std::unexpected(std::move(dir.error()).context("kernel " + spec.kernel_release));
  auto index = load_module_index(dir->get());
  if (!index)
    return std::unexpected(std::move(index.error()).context("read module index of kernel " +
                                                            spec.kernel_release));
  std::vector<std::string> wanted = spec.modules;
  wanted.insert(wanted.end(), spec.forced.begin(), spec.forced.end());
  auto all = resolve_load_order(*index, wanted, spec.kernel_release);
  if (!all) return std::unexpected(std::move(all.error()));
  auto forced = resolve_load_order(*index, spec.forced, spec.kernel_release);
  if (!forced) return std::unexpected(std::move(forced.error()));
  auto table = table_for(*index, spec, *all);
  if (!table) return std::unexpected(std::move(table.error()));

  Initramfs result;
  result.notes = std::move(all->notes);
  for (const auto& p : all->paths) result.modules.push_back(path_in_initramfs(spec, p));
  for (const auto& p : forced->paths) result.forced.push_back(path_in_initramfs(spec, p));

  CpioArchive archive;
  if (auto st = add_skeleton(archive); !st) return std::unexpected(std::move(st.error()));
  if (auto st = add_programs(archive, spec); !st) return std::unexpected(std::move(st.error()));
  if (auto st = add_modules(archive, spec, *all); !st) return std::unexpected(std::move(st.error()));
  if (auto st = archive.add_file(initramfs_paths::kModuleTable, format_module_table(*table), 0644);
      !st)
    return std::unexpected(std::move(st.error()));
  if (auto st = archive.add_file(initramfs_paths::kModulesLoad, lines(result.forced), 0644); !st)
    return std::unexpected(std::move(st.error()));

  auto cpio = archive.serialize(spec.mtime);
  if (!cpio) return std::unexpected(std::move(cpio.error()));
  result.cpio = std::move(*cpio);
  return result;
}

Status write_initramfs(const std::string& path, const std::string& bytes) {
  size_t slash = path.rfind('/');
  std::string dir_path = slash == std::string::npos ? "." : path.substr(0, slash);
  if (dir_path.empty()) dir_path = "/";
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..")
    return fail("write " + quoted(path) + ": not a file name");
  auto dir = Fd::open_dir(dir_path);
  if (!dir) return std::unexpected(std::move(dir.error()).context("write " + quoted(path)));
  return write_file_atomic_at(dir->get(), name, bytes, 0644);
}

}  // namespace imgroot::initramfs

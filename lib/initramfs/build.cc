#include "initramfs/build.h"

#include <array>

#include "base/layout.h"
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

// Copy the modules in `order` from the modules root, and write the list.
Result<std::vector<std::string>> add_modules(CpioArchive& archive, const InitramfsSpec& spec,
                                             const LoadOrder& order) {
  const std::string in_initramfs_dir = "/lib/modules/" + spec.kernel_release;
  const std::string host_dir = modules_dir(spec.modules_root, spec.kernel_release);
  auto dir = Fd::open_dir(host_dir);
  if (!dir) return std::unexpected(std::move(dir.error()));
  auto root = Fd::open_dir(spec.modules_root);
  if (!root) return std::unexpected(std::move(root.error()));

  std::vector<std::string> lines;
  std::string list;
  for (const auto& path : order.paths) {
    // depmod writes paths relative to the modules directory, except for
    // modules outside it, which keep their absolute path (below ROOT).
    bool absolute = path.starts_with('/');
    auto content = absolute ? read_file_at(root->get(), path.substr(1))
                            : read_file_at(dir->get(), path);
    if (!content)
      return std::unexpected(std::move(content.error()).context("copy module"));
    std::string target = absolute ? path : in_initramfs_dir + "/" + path;
    if (auto st = archive.add_file(target, std::move(*content), 0644); !st)
      return std::unexpected(std::move(st.error()));
    list += target + "\n";
    lines.push_back(std::move(target));
  }
  if (auto st = archive.add_file(initramfs_paths::kModulesLoad, std::move(list), 0644); !st)
    return std::unexpected(std::move(st.error()));
  return lines;
}

Result<LoadOrder> load_order_for(const InitramfsSpec& spec) {
  auto dir = Fd::open_dir(modules_dir(spec.modules_root, spec.kernel_release));
  if (!dir) return std::unexpected(std::move(dir.error()).context("kernel " + spec.kernel_release));
  auto index = load_module_index(dir->get());
  if (!index)
    return std::unexpected(std::move(index.error()).context("read module index of kernel " +
                                                            spec.kernel_release));
  return resolve_load_order(*index, spec.modules, spec.kernel_release);
}

}  // namespace

Result<Initramfs> assemble_initramfs(const InitramfsSpec& spec) {
  auto order = load_order_for(spec);
  if (!order) return std::unexpected(std::move(order.error()));

  CpioArchive archive;
  if (auto st = add_skeleton(archive); !st) return std::unexpected(std::move(st.error()));
  if (auto st = add_programs(archive, spec); !st) return std::unexpected(std::move(st.error()));
  auto lines = add_modules(archive, spec, *order);
  if (!lines) return std::unexpected(std::move(lines.error()));

  auto cpio = archive.serialize(spec.mtime);
  if (!cpio) return std::unexpected(std::move(cpio.error()));
  return Initramfs{.cpio = std::move(*cpio),
                   .load_order = std::move(*lines),
                   .notes = std::move(order->notes)};
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

#include "provision/boot_files.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <sstream>
#include <vector>

#include "base/layout.h"
#include "grub/env.h"
#include "grub/esp.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/run.h"
#include "system/temp_dir.h"

#ifndef IMGROOT_GRUB_EFI_MODULES
#error "IMGROOT_GRUB_EFI_MODULES (from grub/efi-modules) must be defined by the build"
#endif

namespace imgroot::provision {

namespace {

Status make_dirs(const std::string& root, const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::string path = root + "/" + dir;
    if (::mkdir(path.c_str(), 0755) < 0) return fail_errno("create " + quoted(path));
  }
  return {};
}

Status write_into(const std::string& dir, const std::string& name, const std::string& content) {
  auto fd = Fd::open_dir(dir);
  if (!fd) return std::unexpected(fd.error());
  return write_file_atomic_at(fd->get(), name, content);
}

Status make_grub_image(const std::string& output) {
  // GRUB's prefix on EFI-BOOT: grub.cfg and grubenv are in it (docs/grub.md).
  const std::string grub_prefix = std::string("/") + esp_files::kGrubDir;
  std::vector<std::string> argv{"grub-mkimage", "-O", "x86_64-efi", "-p", grub_prefix.c_str(), "-o", output};
  std::istringstream modules(grub_efi_modules());
  for (std::string m; modules >> m;) argv.push_back(m);
  auto ran = run_program(argv);
  if (ran) return {};
  Error e = std::move(ran.error()).context("make GRUB's EFI image");
  if (e.code == ENOENT) e.message += " (install grub-common and grub-efi-amd64-bin)";
  return std::unexpected(std::move(e));
}

}  // namespace

const char* grub_efi_modules() { return IMGROOT_GRUB_EFI_MODULES; }

Status install_boot_files(const std::string& esp_device, const std::string& grub_cfg,
                          const std::string& work_base) {
  auto tree = TempDir::create(work_base, "imgroot-esp");
  if (!tree) return std::unexpected(tree.error());
  const std::string root = tree->path();
  if (auto s = make_dirs(root, {"EFI", "EFI/BOOT", esp_files::kGrubDir}); !s) return s;
  if (auto s = make_grub_image(root + "/" + esp_files::kGrubEfiPath); !s) return s;
  const std::string grub_dir = root + "/" + esp_files::kGrubDir;
  if (auto s = write_into(grub_dir, esp_files::kConfigFile, grub_cfg); !s) return s;
  auto env = grub::format_env(grub::Env{});
  if (!env) return std::unexpected(env.error());
  if (auto s = write_into(grub_dir, esp_files::kEnvFile, *env); !s) return s;

  // mtools' geometry checks are for floppies; a partition fails them.
  RunOptions options{{{"MTOOLS_SKIP_CHECK", "1"}}};
  auto copied = run_program(
      {"mcopy", "-s", "-Q", "-i", esp_device, root + "/EFI", grub_dir, "::/"}, options);
  if (!copied) {
    Error e = std::move(copied.error()).context("copy GRUB's files onto " + quoted(esp_device));
    if (e.code == ENOENT) e.message += " (install mtools)";
    return std::unexpected(std::move(e));
  }
  return {};
}

}  // namespace imgroot::provision

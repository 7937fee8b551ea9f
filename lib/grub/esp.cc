#include "grub/esp.h"

#include <fcntl.h>
#include <unistd.h>

#include "system/file.h"

namespace imgroot::grub {

namespace {

std::string env_path(const Esp& esp) {
  return esp.path + "/" + kGrubDir + "/" + kEnvFile;
}

// Overwrite the whole file in place with 'block' (same size).
Status rewrite_in_place(const Esp& esp, const std::string& block) {
  auto fd = Fd::open_at(esp.grub_dir.get(), kEnvFile, O_WRONLY);
  if (!fd) return std::unexpected(fd.error());
  std::size_t done = 0;
  while (done < block.size()) {
    ssize_t n = ::pwrite(fd->get(), block.data() + done, block.size() - done,
                         static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write " + quoted(env_path(esp)));
    }
    done += static_cast<std::size_t>(n);
  }
  return fsync_fd(fd->get(), quoted(env_path(esp)));
}

}  // namespace

Result<Esp> open_esp(const std::string& path) {
  auto dir = Fd::open_dir(path + "/" + kGrubDir);
  if (!dir)
    return std::unexpected(std::move(dir.error())
                               .context("EFI-BOOT partition " + quoted(path)));
  return Esp{path, std::move(*dir)};
}

Result<Env> load_grubenv(const Esp& esp) {
  auto text = read_file_at(esp.grub_dir.get(), kEnvFile);
  if (!text) {
    if (text.error().code == ENOENT) return Env{};
    return std::unexpected(text.error());
  }
  auto env = parse_env(*text);
  if (!env) return std::unexpected(std::move(env.error()).context(quoted(env_path(esp))));
  return env;
}

Status save_grubenv(const Esp& esp, const Env& env) {
  auto st = stat_at(esp.grub_dir.get(), kEnvFile);
  if (!st) return std::unexpected(st.error());
  const bool in_place = *st && S_ISREG((*st)->st_mode) && (*st)->st_size > 0;
  const std::size_t size = in_place ? static_cast<std::size_t>((*st)->st_size) : kEnvBlockSize;
  auto block = format_env(env, size);
  if (!block) return std::unexpected(std::move(block.error()).context(quoted(env_path(esp))));
  if (in_place) return rewrite_in_place(esp, *block);
  return write_file_atomic_at(esp.grub_dir.get(), kEnvFile, *block);
}

Result<bool> ensure_grubenv(const Esp& esp) {
  auto exists = exists_at(esp.grub_dir.get(), kEnvFile);
  if (!exists) return std::unexpected(exists.error());
  if (*exists) return false;
  auto block = format_env(Env{});
  if (!block) return std::unexpected(block.error());
  if (auto st = write_file_atomic_at(esp.grub_dir.get(), kEnvFile, *block); !st)
    return std::unexpected(st.error());
  return true;
}

}  // namespace imgroot::grub

#include "initramfs/elf.h"

#include <elf.h>

#include <cstring>

namespace imgroot::initramfs {

namespace {

// Read a T at `offset`, or nothing when the file is too short. Host byte
// order: the builder runs on the machine (architecture) it builds for.
template <typename T>
bool read_at(std::string_view file, size_t offset, T& out) {
  if (offset > file.size() || file.size() - offset < sizeof(T)) return false;
  std::memcpy(&out, file.data() + offset, sizeof(T));
  return true;
}

template <typename Ehdr, typename Phdr>
bool has_interp(std::string_view file) {
  Ehdr ehdr;
  if (!read_at(file, 0, ehdr) || ehdr.e_phentsize != sizeof(Phdr)) return false;
  for (size_t i = 0; i < ehdr.e_phnum; ++i) {
    Phdr phdr;
    if (!read_at(file, static_cast<size_t>(ehdr.e_phoff) + i * sizeof(Phdr), phdr)) return false;
    if (phdr.p_type == PT_INTERP) return true;
  }
  return false;
}

}  // namespace

bool elf_needs_interpreter(std::string_view file) {
  if (file.size() < EI_NIDENT || file.substr(0, SELFMAG) != std::string_view(ELFMAG, SELFMAG))
    return false;
  if (file[EI_CLASS] == ELFCLASS64) return has_interp<Elf64_Ehdr, Elf64_Phdr>(file);
  if (file[EI_CLASS] == ELFCLASS32) return has_interp<Elf32_Ehdr, Elf32_Phdr>(file);
  return false;
}

}  // namespace imgroot::initramfs

// Just enough ELF to refuse a dynamically linked /init: the initramfs carries
// no shared libraries, so a program with an interpreter cannot start there.
#pragma once

#include <string_view>

namespace imgroot::initramfs {

// True for an ELF executable with a PT_INTERP program header (it needs
// ld.so); false for static ELF files and for anything that is not ELF.
bool elf_needs_interpreter(std::string_view file);

}  // namespace imgroot::initramfs

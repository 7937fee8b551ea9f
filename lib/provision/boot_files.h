// GRUB for x86_64 EFI and its files on the EFI-BOOT partition of a
// provisioned disk, written with mtools: the host kernel need not be able
// to mount FAT.
#pragma once

#include <string>

#include "base/error.h"

namespace imgroot::provision {

// The modules built into BOOTX64.EFI (grub/efi-modules), space-separated.
const char* grub_efi_modules();

// Make BOOTX64.EFI with grub-mkimage (every module it needs built in, the
// prefix /grub), and copy it, 'grub_cfg' as grub/grub.cfg and an empty
// 1024-byte grub/grubenv onto the FAT filesystem on 'esp_device' with
// mcopy. The files are put together first in a private directory under
// 'work_base', removed afterwards.
Status install_boot_files(const std::string& esp_device, const std::string& grub_cfg,
                          const std::string& work_base);

}  // namespace imgroot::provision

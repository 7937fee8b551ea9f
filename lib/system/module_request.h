// Asking for the kernel module that serves a name ("fs-ext4" before mounting
// ext4, "devname:loop-control" before opening it), as the kernel's own
// request_module() does for itself. Nothing happens unless a program installs
// a loader: imgroot-init installs the initramfs's (init/modules.h), so the
// mounts and loop devices of the core library load their modules by need;
// everyone else runs on a system whose udev and kmod have done it.
#pragma once

#include <string_view>

namespace imgroot {

using ModuleLoader = void (*)(std::string_view name);

void install_module_loader(ModuleLoader loader);
void request_module(std::string_view name);

}  // namespace imgroot

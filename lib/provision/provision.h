// `imgroot provision DISK`: turn a blank disk (or disk image file) into a
// bootable node as docs/design.md section 1 describes it, in two halves: a plan,
// made without writing anything, and carrying it out.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/error.h"
#include "provision/layout.h"
#include "provision/target.h"
#include "stage/stage.h"

namespace imgroot::provision {

struct Request {
  std::string disk;   // a whole block device, or a disk image file
  std::string image;  // the root image to stage as hn-root.img
  std::string init = "/sbin/init";  // what the image must have, executable (stage's check)
  std::uint64_t esp_size = kDefaultEspSize;
  HostFs fs = HostFs::kExt4;
};

struct ImageInfo {
  std::string fs_type;
  std::uint64_t size = 0;       // apparent size
  std::uint64_t allocated = 0;  // what a copy takes (holes stay holes)
};

struct Plan {
  Request request;
  Target target;
  ImageInfo image;
  Layout layout;
};

// Everything that can be found out without writing to the disk, in this
// order: the disk (a whole disk or an image file, not in use, see
// in_use.h), the image (stage's checks: a regular file with a filesystem
// holding the init, /boot/kernel and /boot/initramfs; needs root and loop
// devices), and the layout (the image fits on the host partition).
Result<Plan> make_plan(const Request& request, const SystemPaths& paths);

// The plan as the operator reads it before saying yes: what is on the disk
// now and will be erased, and what will be created. Several lines, each
// ending in a newline.
std::string describe_plan(const Plan& plan);

struct Progress {
  // Announces each step ("making ext4 'hostpart' on /dev/loop3p2").
  std::function<void(const std::string&)> step;
  // The image copy's progress and cancel flag; the flag is also polled
  // between steps.
  stage::CopyControl copy;
};

struct Provisioned {
  std::string device;        // what was partitioned: the disk, or the loop device over the file
  stage::Staged staged;      // the image, staged
  bool made_nodes = false;   // the partition nodes were made by imgroot (no udev, no devtmpfs)
};

// Carry the plan out: check again that the disk is not in use, wipe the
// old signatures, write the GPT (parted.h), make the filesystems, stage the
// image as hn-root.img beside data/ and imgroot/, install GRUB with
// 'grub_cfg' (what `imgroot grub` writes). A disk image file is attached
// to a loop device for the duration. Whatever happens, nothing stays
// mounted or attached: the host partition is mounted without ever being
// attached to a directory (detached_mount.h), the loop device clears
// itself. A failure after the first write says that the disk is left
// partly written.
Result<Provisioned> carry_out(const Plan& plan, const std::string& grub_cfg,
                              const SystemPaths& paths, const Progress& progress);

}  // namespace imgroot::provision

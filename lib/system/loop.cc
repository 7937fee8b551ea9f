#include "system/loop.h"
#include "system/module_request.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>

#include <cstring>

namespace imgroot {

namespace {
// A free device can be taken by another process between LOOP_CTL_GET_FREE
// and LOOP_CONFIGURE (EBUSY): ask again, a bounded number of times.
constexpr int kAttachAttempts = 16;
}  // namespace

Result<LoopDevice> LoopDevice::attach(const Fd& file, bool read_only, bool scan_partitions) {
  request_module("devname:loop-control");
  auto control = Fd::open("/dev/loop-control", O_RDWR);
  if (!control) return std::unexpected(control.error());

  for (int attempt = 0; attempt < kAttachAttempts; ++attempt) {
    int n = ::ioctl(control->get(), LOOP_CTL_GET_FREE);
    if (n < 0) return fail_errno("find a free loop device");
    std::string path = "/dev/loop" + std::to_string(n);
    auto dev = Fd::open(path, read_only ? O_RDONLY : O_RDWR);
    if (!dev) return std::unexpected(dev.error());

    struct loop_config config;
    std::memset(&config, 0, sizeof config);
    config.fd = static_cast<__u32>(file.get());
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0) |
                           (scan_partitions ? LO_FLAGS_PARTSCAN : 0);
    if (::ioctl(dev->get(), LOOP_CONFIGURE, &config) == 0)
      return LoopDevice(std::move(*dev), std::move(path));
    if (errno != EBUSY) return fail_errno("attach loop device " + quoted(path));
  }
  return fail("attach loop device: every free device was taken by someone else; try again");
}

}  // namespace imgroot

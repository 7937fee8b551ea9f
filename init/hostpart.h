// Waiting for the host partition and mounting it.
#pragma once

#include <functional>
#include <string>

#include "base/error.h"
#include "boot/device_spec.h"
#include "system/mount.h"

namespace imgroot::init {

// Poll until exactly one block device matches 'spec', for up to
// 'timeout_seconds'. Two matches fail at once, naming both: booting
// whichever came first would be a coin toss between two disks, so one match
// counts only once 'settled' says no driver is still loading (the second
// disk may be its next device). 'each_poll' runs before every look;
// 'pause' waits up to the milliseconds it is given between looks (it may
// return early: when a module finished loading).
Result<std::string> wait_for_hostpart(const DeviceSpec& spec, int timeout_seconds,
                                      const std::function<void()>& each_poll,
                                      const std::function<void(int)>& pause,
                                      const std::function<bool()>& settled);

// Mount 'device' read-write at 'target' with the filesystem libblkid finds on it.
Result<Mount> mount_hostpart(const std::string& device, const std::string& target);

}  // namespace imgroot::init

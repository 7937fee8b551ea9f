#include "state/boot_loader_sync.h"

#include "system/file.h"

namespace imgroot::state {

Status sync_for_boot_loader(int dir) {
  auto st = checkpoint_filesystem(dir);
  if (st) return st;
  Error e = std::move(st.error());
  e.message = "the change is on the host partition, but GRUB may not see it yet (" + e.message +
              "); run imgroot as root, or unmount the partition cleanly before booting from it";
  return std::unexpected(std::move(e));
}

}  // namespace imgroot::state

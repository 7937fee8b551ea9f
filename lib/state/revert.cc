#include "state/revert.h"

#include <string>

#include "base/layout.h"
#include "boot/rotation.h"
#include "state/boot_loader_sync.h"
#include "state/state_file.h"
#include "system/file.h"

namespace imgroot::state {

using namespace host_files;

Status request_revert(int dir, const RevertRequest& request) {
  auto s = rotation::read_state(dir);
  if (!s) return std::unexpected(s.error());
  if (!s->old || s->current_is_old)
    return fail(std::string("there is no ") + kOld + " to go back to");
  if (s->staged && !request.unstage)
    return fail(std::string(kNew) +
                " is staged, and the boot after the revert would start it; pass --unstage to "
                "remove it, or 'imgroot revert --cancel' later");
  if (s->staged) {
    if (auto st = remove_durably_at(dir, kNew); !st) return st;
  }
  const std::string why = "requested by 'imgroot revert' at " + now_rfc3339() + "\n";
  if (auto st = write_file_atomic_at(dir, kRevertFlag, why); !st) return st;
  return sync_for_boot_loader(dir);
}

Result<bool> cancel_revert(int dir) {
  auto present = exists_at(dir, kRevertFlag);
  if (!present) return std::unexpected(present.error());
  if (!*present) return false;
  if (auto st = remove_durably_at(dir, kRevertFlag); !st) return std::unexpected(st.error());
  if (auto st = sync_for_boot_loader(dir); !st) return std::unexpected(st.error());
  return true;
}

}  // namespace imgroot::state

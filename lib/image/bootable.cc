#include "image/bootable.h"

#include <sys/stat.h>

#include "system/resolve.h"
#include "system/tree.h"

namespace imgroot::image {

namespace {

Status expect_file(int root, const std::string& path, bool executable) {
  auto fd = open_in_root(root, path);
  if (!fd) {
    if (fd.error().code == ENOENT) return fail("the image has no " + path);
    return std::unexpected(std::move(fd.error()).context("the image's " + path));
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno("stat the image's " + path);
  if (!S_ISREG(st.st_mode)) return fail("the image's " + path + " is " + file_type_name(st.st_mode));
  if (executable && (st.st_mode & 0111) == 0)
    return fail("the image's " + path + " is not executable");
  return {};
}

}  // namespace

Status check_bootable(int root, const std::string& init, Needs needs) {
  if (auto st = expect_file(root, init, /*executable=*/true); !st) return st;
  if (needs == Needs::kInit) return {};
  if (auto st = expect_file(root, "/boot/kernel", false); !st) return st;
  return expect_file(root, "/boot/initramfs", false);
}

}  // namespace imgroot::image

#include "initramfs/compress.h"

#include <zstd.h>

#include <memory>

namespace imgroot::initramfs {

namespace {

struct CctxFree {
  void operator()(ZSTD_CCtx* cctx) const { (void)ZSTD_freeCCtx(cctx); }  // returns 0 always
};

Status check(size_t code, const char* what) {
  if (ZSTD_isError(code)) return fail(std::string("compress initramfs: ") + what + ": " +
                                      ZSTD_getErrorName(code));
  return {};
}

}  // namespace

Result<std::string> compress_zstd(std::string_view data, int level) {
  std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
  if (!cctx) return fail("compress initramfs: out of memory");
  if (auto st = check(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, level),
                      "set level");
      !st)
    return std::unexpected(std::move(st.error()));
  if (auto st = check(ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1), "set checksum");
      !st)
    return std::unexpected(std::move(st.error()));

  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), data.data(), data.size());
  if (auto st = check(n, "compress"); !st) return std::unexpected(std::move(st.error()));
  out.resize(n);
  return out;
}

}  // namespace imgroot::initramfs

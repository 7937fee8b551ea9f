#include "compress/zstd.h"

#include <zstd.h>

#include <memory>

namespace imgroot {

namespace {

struct CctxFree {
  void operator()(ZSTD_CCtx* cctx) const { (void)ZSTD_freeCCtx(cctx); }  // returns 0 always
};
struct DctxFree {
  void operator()(ZSTD_DCtx* dctx) const { (void)ZSTD_freeDCtx(dctx); }
};

Status check(size_t code, const char* what) {
  if (ZSTD_isError(code)) return fail(std::string("zstd: ") + what + ": " + ZSTD_getErrorName(code));
  return {};
}

}  // namespace

Result<std::string> compress_zstd(std::string_view data, int level) {
  std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
  if (!cctx) return fail("zstd: compress: out of memory");
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

Result<std::string> decompress_zstd(std::string_view data, std::size_t limit,
                                    const std::string& what) {
  // One frame that says its size (as compress_zstd writes) is decompressed
  // in one call; anything else is streamed.
  unsigned long long size = ZSTD_getFrameContentSize(data.data(), data.size());
  if (size == ZSTD_CONTENTSIZE_ERROR)
    return fail("decompress " + what + ": not zstd data, or truncated (damaged data)");
  if (ZSTD_findFrameCompressedSize(data.data(), data.size()) != data.size())
    size = ZSTD_CONTENTSIZE_UNKNOWN;
  if (size != ZSTD_CONTENTSIZE_UNKNOWN && size > limit)
    return fail("decompress " + what + ": more than " + std::to_string(limit) +
                " bytes (damaged or foreign data)");
  std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  if (!dctx) return fail("decompress " + what + ": out of memory");
  std::string out;
  if (size != ZSTD_CONTENTSIZE_UNKNOWN) {
    out.resize(static_cast<std::size_t>(size));
    const size_t n = ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), data.data(), data.size());
    if (ZSTD_isError(n))
      return fail("decompress " + what + ": " + ZSTD_getErrorName(n) + " (damaged data)");
    if (n != out.size()) return fail("decompress " + what + ": truncated zstd data");
    return out;
  }
  // Frames that do not say their size (zstd of a pipe): streamed, bounded.
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  char buf[1 << 16];
  size_t last = 0;
  for (;;) {
    ZSTD_outBuffer o{buf, sizeof buf, 0};
    const size_t before = in.pos;
    last = ZSTD_decompressStream(dctx.get(), &o, &in);
    if (ZSTD_isError(last))
      return fail("decompress " + what + ": " + ZSTD_getErrorName(last) + " (damaged data)");
    if (out.size() + o.pos > limit)
      return fail("decompress " + what + ": more than " + std::to_string(limit) +
                  " bytes (damaged or foreign data)");
    out.append(buf, o.pos);
    if (o.pos == 0 && in.pos == before) break;  // no progress: done, or cut short
  }
  if (last != 0 || in.pos != in.size) return fail("decompress " + what + ": truncated zstd data");
  return out;
}

}  // namespace imgroot

#include "image/sha256.h"

namespace imgroot {

Result<Sha256> Sha256::create() {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx);
    return fail("initialise SHA-256: OpenSSL refused");
  }
  return Sha256(ctx);
}

void Sha256::update(std::span<const unsigned char> data) {
  // Cannot fail for an initialised SHA-256 context.
  (void)EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
}

std::string Sha256::finish_hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  (void)EVP_DigestFinal_ex(ctx_.get(), digest, &len);  // cannot fail, as above
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

}  // namespace imgroot

// SHA-256 through OpenSSL's EVP interface, which uses the CPU's SHA
// extensions where it has them.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <span>
#include <string>

#include "base/error.h"

namespace imgroot {

class Sha256 {
 public:
  static Result<Sha256> create();
  void update(std::span<const unsigned char> data);
  // Lower-case hex of the digest; the object is spent afterwards.
  std::string finish_hex();

 private:
  struct Free {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  explicit Sha256(EVP_MD_CTX* ctx) : ctx_(ctx) {}
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

}  // namespace imgroot

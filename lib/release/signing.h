// Signed releases (docs/signing.md): Ed25519 through OpenSSL's libcrypto.
// A release's manifest is signed by a detached signature beside it,
// manifest.json.sig; the manifest pins the index, the index every block, so
// the signature covers the whole image. A node trusts the public keys in
// /etc/imgroot/keys/*.pub of the image it runs.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace imgroot::release {

inline constexpr const char* kSignatureFormat = "imgroot-signature-1";
inline constexpr const char* kSignatureSuffix = ".sig";  // manifest.json.sig

struct KeyFree {
  void operator()(EVP_PKEY* key) const;
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

struct PublicKey {
  std::string id;    // 16 hex digits: the start of the SHA-256 of the raw key
  std::string file;  // where it was read from
  Key key;
};

// Write NAME.key (PKCS#8 PEM, 0600, never replaced) and NAME.pub (PEM);
// returns the key's id.
Result<std::string> generate_key(const std::string& name);

// The private key in 'path' (PEM), and its id.
Result<std::pair<Key, std::string>> read_private_key(const std::string& path);
Result<PublicKey> read_public_key(const std::string& path);
// Every *.pub in 'dir'; none when 'dir' does not exist. A file that is no
// Ed25519 public key is an error naming it: a typo must not silently leave
// a node with fewer keys than its operator thinks.
Result<std::vector<PublicKey>> read_trusted_keys(const std::string& dir);

// The detached signature (a small JSON document) of 'manifest' by 'key'.
Result<std::string> sign_manifest(const std::string& manifest, const Key& key,
                                  const std::string& key_id);

// The id of the trusted key that signed 'manifest'; an error that says why
// not: an unreadable or foreign signature, a key this node does not trust,
// or a signature that does not match (the manifest or signature altered).
Result<std::string> verify_manifest(const std::string& manifest, const std::string& signature,
                                    const std::vector<PublicKey>& trusted);

// What the node decides about a release before fetching it.
struct TrustInput {
  std::string release;                    // NAME-VERSION, for messages
  std::uint64_t version = 0;
  std::optional<std::string> signature;   // nullopt: the server has none
  std::string manifest;                   // its exact bytes
  std::string keys_dir;                   // for messages
  const std::vector<PublicKey>* trusted = nullptr;
  std::optional<std::uint64_t> running_version;  // the running image's release, same name
  bool insecure = false;
  bool allow_downgrade = false;
};
struct Trust {
  std::string signed_by;  // a key id, "unsigned" (no keys here) or "insecure"
  std::string warning;    // to print, when not empty
};
Result<Trust> decide_trust(const TrustInput& in);

}  // namespace imgroot::release

#include "release/signing.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "release/index.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::release {

namespace {

using nlohmann::json;

constexpr std::size_t kSignatureBytes = 64;  // Ed25519

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

Result<std::string> key_id(EVP_PKEY* key) {
  unsigned char raw[32];
  std::size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof raw)
    return fail("not an Ed25519 key");
  return hex(sha256_digest({raw, len})).substr(0, 16);
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(const std::string& text) {
  if (text.empty() || text.size() % 4) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t pad = 0;
  while (pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& text) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The PEM text of a key; 'write' is PEM_write_bio_PrivateKey or _PUBKEY.
template <typename Write>
Result<std::string> pem(Write write) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return fail("write a key: OpenSSL failed");
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Status write_new_file(const std::string& path, const std::string& content, mode_t mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) {
    if (errno == EEXIST) return fail(quoted(path) + " exists already: a key is never replaced; choose another name");
    return fail_errno("create " + quoted(path));
  }
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
    return fail_errno("write " + quoted(path));
  return fsync_fd(fd.get(), quoted(path));
}

std::string key_list(const std::vector<PublicKey>& keys) {
  std::string s;
  for (const auto& k : keys) s += (s.empty() ? "" : ", ") + k.id;
  return s;
}

}  // namespace

void KeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

Result<std::string> generate_key(const std::string& name) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
    return fail("generate an Ed25519 key: OpenSSL failed");
  Key key(raw);
  auto id = key_id(key.get());
  if (!id) return std::unexpected(id.error());
  auto private_pem = pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  auto public_pem = pem([&](BIO* b) { return PEM_write_bio_PUBKEY(b, key.get()); });
  if (!private_pem) return std::unexpected(private_pem.error());
  if (!public_pem) return std::unexpected(public_pem.error());
  if (auto st = write_new_file(name + ".key", *private_pem, 0600); !st) return std::unexpected(st.error());
  if (auto st = write_new_file(name + ".pub", *public_pem, 0644); !st) return std::unexpected(st.error());
  return id;
}

Result<std::pair<Key, std::string>> read_private_key(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto bio = memory_bio(*text);
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return fail(quoted(path) + " is not an Ed25519 private key in PEM ('imgroot key generate' makes one)");
  auto id = key_id(key.get());
  if (!id) return std::unexpected(id.error());
  return std::pair<Key, std::string>(std::move(key), *id);
}

Result<PublicKey> read_public_key(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  auto bio = memory_bio(*text);
  Key key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return fail(quoted(path) + " is not an Ed25519 public key in PEM; remove it or replace it with "
                "the .pub file 'imgroot key generate' wrote");
  auto id = key_id(key.get());
  if (!id) return std::unexpected(id.error());
  return PublicKey{*id, path, std::move(key)};
}

Result<std::vector<PublicKey>> read_trusted_keys(const std::string& dir) {
  std::vector<PublicKey> keys;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return keys;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".pub") files.push_back(e.path().string());
  if (ec) return fail("read the trusted keys in " + quoted(dir) + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto key = read_public_key(f);
    if (!key) return std::unexpected(key.error());
    keys.push_back(std::move(*key));
  }
  return keys;
}

Result<std::string> sign_manifest(const std::string& manifest, const Key& key,
                                  const std::string& id) {
  std::unique_ptr<EVP_MD_CTX, MdFree> md(EVP_MD_CTX_new());
  unsigned char sig[kSignatureBytes];
  std::size_t len = sizeof sig;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), sig, &len, reinterpret_cast<const unsigned char*>(manifest.data()),
                     manifest.size()) != 1)
    return fail("sign the manifest: OpenSSL failed");
  nlohmann::ordered_json j;
  j["format"] = kSignatureFormat;
  j["algorithm"] = "ed25519";
  j["key_id"] = id;
  j["signature"] = base64(sig, len);
  return j.dump(2) + "\n";
}

Result<std::string> verify_manifest(const std::string& manifest, const std::string& signature,
                                    const std::vector<PublicKey>& trusted) {
  json j = json::parse(signature, nullptr, false);
  // Members that are missing or of another type read as "".
  auto text = [&j](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (j.is_discarded() || !j.is_object() || text("format") != kSignatureFormat)
    return fail("the signature is not an " + std::string(kSignatureFormat) + " document");
  const std::string algorithm = text("algorithm");
  if (algorithm != "ed25519")
    return fail("the signature's algorithm \"" + algorithm + "\" is not ed25519 (a newer imgroot may read it)");
  const std::string id = text("key_id");
  auto raw = unbase64(text("signature"));
  if (!raw || raw->size() != kSignatureBytes) return fail("the signature is truncated or damaged");
  auto key = std::find_if(trusted.begin(), trusted.end(), [&](const PublicKey& k) { return k.id == id; });
  if (key == trusted.end())
    return fail("it is signed by key " + (id.empty() ? std::string("(none named)") : id) +
                ", which this node does not trust (it trusts " + key_list(trusted) + ")");
  std::unique_ptr<EVP_MD_CTX, MdFree> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key->key.get()) != 1)
    return fail("verify the signature: OpenSSL failed");
  if (EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(raw->data()), raw->size(),
                       reinterpret_cast<const unsigned char*>(manifest.data()), manifest.size()) != 1)
    return fail("its signature by key " + id + " does not match: the manifest or its signature "
                "was altered");
  return id;
}

Result<Trust> decide_trust(const TrustInput& in) {
  Trust t;
  const bool have_keys = in.trusted && !in.trusted->empty();
  const std::string what = "release " + in.release;
  if (!have_keys) {
    t.signed_by = in.insecure ? "insecure" : "unsigned";
    t.warning = in.insecure ? "--insecure: " + what + " is staged without checking who made it"
                            : "no keys in " + in.keys_dir + ": the signature of " + what +
                                  " is not checked (docs/signing.md)";
  } else if (!in.signature) {
    if (!in.insecure)
      return fail(what + " is not signed, and this node trusts keys " + key_list(*in.trusted) +
                  " (" + in.keys_dir + "): sign it ('imgroot sign'), or stage with --insecure; "
                  "nothing was staged");
    t.signed_by = "insecure";
    t.warning = "--insecure: " + what + " is not signed; staging it anyway";
  } else {
    auto by = verify_manifest(in.manifest, *in.signature, *in.trusted);
    if (!by && !in.insecure)
      return fail(what + " is refused: " + by.error().message + "; nothing was staged (with a new "
                  "signing key, add its .pub to " + in.keys_dir + " first: docs/signing.md)");
    t.signed_by = by ? *by : "insecure";
    if (!by) t.warning = "--insecure: " + what + ": " + by.error().message + "; staging it anyway";
  }
  if (in.running_version && in.version < *in.running_version && !in.allow_downgrade)
    return fail(what + " is older than the running image's release (version " +
                std::to_string(*in.running_version) + "): a downgrade is refused, since an old "
                "release may be replayed to bring back its flaws; pass --allow-downgrade if it is "
                "meant ('imgroot revert' goes back to hn-root-old.img without it)");
  return t;
}

}  // namespace imgroot::release

// Signed releases: keys, signatures, and what a node with or without keys
// decides (lib/release/signing.cc).
#include <catch2/catch.hpp>

#include "release/signing.h"
#include "test_support.h"

using namespace imgroot;
using namespace imgroot::release;
using namespace imgroot::test;

namespace {

const std::string kManifest = "{\n  \"format\": \"imgroot-release-1\",\n  \"name\": \"hn-root\"\n}\n";

struct Keys {
  TempDir dir;
  std::string id_a, id_b;
  std::vector<PublicKey> trusted;  // a only
  Keys() {
    auto a = generate_key(dir / "a");
    auto b = generate_key(dir / "b");
    REQUIRE(a);
    REQUIRE(b);
    id_a = *a;
    id_b = *b;
    auto pub = read_public_key(dir / "a.pub");
    REQUIRE(pub);
    trusted.push_back(std::move(*pub));
  }
  std::string sign(const std::string& name, const std::string& text = kManifest) const {
    auto key = read_private_key(dir / (name + ".key"));
    REQUIRE(key);
    auto sig = sign_manifest(text, key->first, key->second);
    REQUIRE(sig);
    return *sig;
  }
  TrustInput input(std::optional<std::string> signature) const {
    TrustInput in;
    in.release = "hn-root-5";
    in.version = 5;
    in.signature = std::move(signature);
    in.manifest = kManifest;
    in.keys_dir = "/etc/imgroot/keys";
    in.trusted = &trusted;
    return in;
  }
};

std::string refusal(const TrustInput& in) {
  auto t = decide_trust(in);
  REQUIRE_FALSE(t);
  return t.error().message;
}

}  // namespace

TEST_CASE("a key pair is made once, the private half readable by root only", "[signing]") {
  Keys k;
  CHECK(k.id_a.size() == 16);
  CHECK(k.id_a != k.id_b);
  CHECK((stat_of(k.dir / "a.key").st_mode & 0777) == 0600);
  auto again = generate_key(k.dir / "a");
  REQUIRE_FALSE(again);
  CHECK_THAT(again.error().message, Catch::Contains("never replaced"));
  auto pub = read_public_key(k.dir / "a.pub");
  REQUIRE(pub);
  CHECK(pub->id == k.id_a);
}

TEST_CASE("a manifest signed by a trusted key is accepted and names the key", "[signing]") {
  Keys k;
  auto by = verify_manifest(kManifest, k.sign("a"), k.trusted);
  REQUIRE(by);
  CHECK(*by == k.id_a);
  auto t = decide_trust(k.input(k.sign("a")));
  REQUIRE(t);
  CHECK(t->signed_by == k.id_a);
  CHECK(t->warning.empty());
}

TEST_CASE("a manifest signed by a key the node does not trust is refused, naming it", "[signing]") {
  Keys k;
  const std::string why = refusal(k.input(k.sign("b")));
  CHECK_THAT(why, Catch::Contains("signed by key " + k.id_b));
  CHECK_THAT(why, Catch::Contains("does not trust"));
  CHECK_THAT(why, Catch::Contains("nothing was staged"));
}

TEST_CASE("an altered manifest or signature is refused", "[signing]") {
  Keys k;
  TrustInput altered = k.input(k.sign("a"));
  altered.manifest[20] = 'X';
  CHECK_THAT(refusal(altered), Catch::Contains("does not match"));
  std::string sig = k.sign("a");
  const auto at = sig.find("\"signature\": \"") + 14;
  sig[at] = sig[at] == 'A' ? 'B' : 'A';
  CHECK_THAT(refusal(k.input(sig)), Catch::Contains("does not match"));
}

TEST_CASE("a truncated, foreign or unknown-algorithm signature is refused", "[signing]") {
  Keys k;
  std::string sig = k.sign("a");
  const auto at = sig.find("\"signature\": \"") + 14;
  CHECK_THAT(refusal(k.input(sig.substr(0, at) + "QUJD\"\n}\n")), Catch::Contains("truncated"));
  CHECK_THAT(refusal(k.input("not json")), Catch::Contains("not an imgroot-signature-1"));
  std::string rsa = sig;
  rsa.replace(rsa.find("ed25519"), 7, "rsa4096");
  CHECK_THAT(refusal(k.input(rsa)), Catch::Contains("\"rsa4096\" is not ed25519"));
}

TEST_CASE("with keys an unsigned release is refused; --insecure stages it and says so", "[signing]") {
  Keys k;
  CHECK_THAT(refusal(k.input(std::nullopt)), Catch::Contains("is not signed"));
  TrustInput insecure = k.input(std::nullopt);
  insecure.insecure = true;
  auto t = decide_trust(insecure);
  REQUIRE(t);
  CHECK(t->signed_by == "insecure");
  CHECK_THAT(t->warning, Catch::Contains("--insecure"));
}

TEST_CASE("without keys a release is staged with a warning that nothing is checked", "[signing]") {
  Keys k;
  const std::vector<PublicKey> none;
  TrustInput in = k.input(std::nullopt);
  in.trusted = &none;
  auto t = decide_trust(in);
  REQUIRE(t);
  CHECK(t->signed_by == "unsigned");
  CHECK_THAT(t->warning, Catch::Contains("not checked"));
}

TEST_CASE("a release older than the running one is refused unless a downgrade is allowed",
          "[signing]") {
  Keys k;
  TrustInput in = k.input(k.sign("a"));
  in.running_version = 6;
  CHECK_THAT(refusal(in), Catch::Contains("--allow-downgrade"));
  in.allow_downgrade = true;
  CHECK(decide_trust(in));
  in.allow_downgrade = false;
  in.running_version = 5;  // the same release again is no downgrade
  CHECK(decide_trust(in));
}

TEST_CASE("the trusted keys are every .pub of the directory, and a bad one is an error", "[signing]") {
  Keys k;
  TempDir keys;
  CHECK(read_trusted_keys(keys / "missing")->empty());
  write_text(keys / "a.pub", read_text(k.dir / "a.pub"));
  write_text(keys / "README", "not a key, not a .pub");
  auto read = read_trusted_keys(keys.path());
  REQUIRE(read);
  REQUIRE(read->size() == 1);
  CHECK(read->front().id == k.id_a);
  write_text(keys / "typo.pub", "garbage");
  auto bad = read_trusted_keys(keys.path());
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("typo.pub"));
}

// A release's detached signature as a node reads it from the network:
// lib/release/signing.cc. Whatever the document, it is refused with a
// message or names a key the node trusts; it never crashes.
#include <unistd.h>

#include <string>

#include "fuzz.h"
#include "release/signing.h"

using namespace imgroot;
using imgroot::fuzz::check;

namespace {

// One key for the whole run, made in a private directory.
const std::vector<release::PublicKey>& trusted() {
  static const std::vector<release::PublicKey> keys = [] {
    std::string dir = "/tmp/imgroot-fuzz-sig.XXXXXX";
    if (!::mkdtemp(dir.data())) std::abort();
    if (!release::generate_key(dir + "/k")) std::abort();
    auto keys = release::read_trusted_keys(dir);
    if (!keys || keys->size() != 1) std::abort();
    (void)::unlink((dir + "/k.key").c_str());
    (void)::unlink((dir + "/k.pub").c_str());
    (void)::rmdir(dir.c_str());
    return std::move(*keys);
  }();
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));
  auto by = release::verify_manifest("{\"format\": \"imgroot-release-1\"}\n", text, trusted());
  check(!by || *by == trusted().front().id, "an accepted signature names the trusted key");
  if (!by) check(!by.error().message.empty(), "a refusal says why");
  return 0;
}

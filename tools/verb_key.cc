// imgroot key generate NAME, imgroot sign MANIFEST --key NAME.key: the
// signing keys of releases (docs/signing.md).
#include <filesystem>
#include <iostream>

#include "release/manifest.h"
#include "release/signing.h"
#include "system/fd.h"
#include "system/file.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kKeyUsage = "key generate NAME";
const char* kKeyDescription =
    "Make an Ed25519 key pair for signing releases: NAME.key (the private key,\n"
    "mode 0600: keep it off the nodes, on the machine or token that publishes) and\n"
    "NAME.pub (the public key: put it in /etc/imgroot/keys/ of the images the nodes\n"
    "run, and they refuse releases it did not sign). Prints the key's id, which\n"
    "signatures, messages and 'imgroot status' name. Existing files are never\n"
    "replaced. docs/signing.md has the procedure, rotation included.";

const char* kSignUsage = "sign MANIFEST --key NAME.key";
const char* kSignDescription =
    "Sign a release's manifest (releases/NAME-VERSION/manifest.json, as 'imgroot\n"
    "publish' wrote it) with a private key: the detached signature goes beside it as\n"
    "MANIFEST.sig, replacing one there. For when publishing and signing happen in\n"
    "different places; 'imgroot publish --key' signs as it publishes. Any tool that\n"
    "writes the same document (docs/signing.md, \"The signature\") may sign instead.";

}  // namespace

int run_key(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("action", po::value<std::string>()->required()->value_name("generate"),
                        "what to do: generate")(
      "name", po::value<std::string>()->required()->value_name("NAME"),
      "the files to write: NAME.key and NAME.pub");
  auto parsed = parse("key", args, options, {{"action"}, {"name"}}, kKeyUsage, kKeyDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  if (vars["action"].as<std::string>() != "generate")
    return usage_error("key", "unknown action " + quoted(vars["action"].as<std::string>()) +
                                  " (generate)");
  const std::string name = vars["name"].as<std::string>();
  auto id = release::generate_key(name);
  if (!id) return report(std::move(id.error()).context("key generate " + quoted(name)));
  std::cout << "wrote " << name << ".key (private: keep it off the nodes) and " << name
            << ".pub (put it in /etc/imgroot/keys/ of the images)\nkey id " << *id << "\n";
  return kExitOk;
}

int run_sign(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("manifest", po::value<std::string>()->required()->value_name("MANIFEST"),
                        "the manifest to sign")(
      "key", po::value<std::string>()->required()->value_name("NAME.key"), "the private key");
  auto parsed = parse("sign", args, options, {{"manifest"}}, kSignUsage, kSignDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  const std::string manifest_path = vars["manifest"].as<std::string>();
  const std::string what = "sign " + quoted(manifest_path);
  auto key = release::read_private_key(vars["key"].as<std::string>());
  if (!key) return report(std::move(key.error()).context(what));
  auto manifest = read_file(manifest_path);
  if (!manifest) return report(std::move(manifest.error()).context(what));
  if (auto m = release::parse_manifest(*manifest, manifest_path); !m)
    return report(std::move(m.error()).context(what));
  auto signature = release::sign_manifest(*manifest, key->first, key->second);
  if (!signature) return report(std::move(signature.error()).context(what));
  const std::filesystem::path path(manifest_path);
  auto dir = Fd::open_dir(path.has_parent_path() ? path.parent_path().string() : ".");
  if (!dir) return report(std::move(dir.error()).context(what));
  const std::string sig_name = path.filename().string() + release::kSignatureSuffix;
  if (auto st = write_file_atomic_at(dir->get(), sig_name, *signature); !st)
    return report(std::move(st.error()).context(what));
  std::cout << "signed " << manifest_path << " with key " << key->second << ": " << manifest_path
            << release::kSignatureSuffix << "\n";
  return kExitOk;
}

}  // namespace imgroot::cli

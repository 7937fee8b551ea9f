// imgroot publish IMAGE --to DIR: make a release a node can stage by URL.
#include <ctime>
#include <iostream>

#include "base/bytes.h"
#include "progress.h"
#include "release/publish.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kUsage =
    "publish IMAGE --to DIR [--name NAME] [--version N] [--channel NAME]\n"
    "          [--key NAME.key] [--frame-size BYTES] [--level N]";

const char* kDescription =
    "Write IMAGE as a release into DIR, which any static HTTP server (nginx, Apache,\n"
    "an object store, a CDN) can serve; nodes stage it with 'imgroot stage URL'.\n"
    "DIR gets releases/NAME-VERSION/manifest.json (name, version, filesystem, the\n"
    "image's size and SHA-256, the index's SHA-256), releases/NAME-VERSION/index.zst\n"
    "(every 4 KiB block of the image by its hash and where it is stored) and\n"
    "packs/<sha256>.pack (the blocks, zstd-compressed in frames). Only blocks that no\n"
    "earlier release in DIR has are written, so a release that differs a little from\n"
    "the last costs little space and a node that has the last one fetches little.\n"
    "Blocks of zeros are not stored. With --channel, channels/NAME is pointed at the\n"
    "new release last: a node staging the channel's URL never sees a half-written\n"
    "release.\n\n"
    "Releases never change: publishing the same image again with the same version\n"
    "and SOURCE_DATE_EPOCH is no change; other content under an existing version is\n"
    "refused. The version defaults to the highest of NAME in DIR plus one, and may\n"
    "not go down. 'created' is SOURCE_DATE_EPOCH when set (reproducible releases),\n"
    "else now. With --key the manifest is signed (releases/NAME-VERSION/\n"
    "manifest.json.sig, written with the release): nodes with keys in\n"
    "/etc/imgroot/keys refuse a release no key of theirs signed (docs/signing.md).\n"
    "docs/releases.md has the format.";

}  // namespace

int run_publish(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("image", po::value<std::string>()->required()->value_name("IMAGE"),
                        "the image to publish (also the first positional argument)")(
      "to", po::value<std::string>()->required()->value_name("DIR"),
      "the release directory (created if missing)")(
      "name", po::value<std::string>()->default_value("hn-root")->value_name("NAME"),
      "the release's name (letters, digits, . _ -)")(
      "version", po::value<std::uint64_t>()->value_name("N"),
      "the release's version (default: the highest of NAME in DIR plus one)")(
      "channel", po::value<std::string>()->value_name("NAME"),
      "point channels/NAME (e.g. stable) at this release")(
      "frame-size", po::value<std::uint64_t>()->default_value(4u << 20)->value_name("BYTES"),
      "the most image bytes one compressed frame holds (a multiple of 4096)")(
      "level", po::value<int>()->default_value(19)->value_name("N"), "zstd level (1-19)")(
      "key", po::value<std::string>()->value_name("NAME.key"),
      "sign the manifest with this private key ('imgroot key generate')");
  auto parsed = parse("publish", args, options, {{"image"}}, kUsage, kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;

  release::PublishRequest request;
  request.image = vars["image"].as<std::string>();
  request.dir = vars["to"].as<std::string>();
  request.name = vars["name"].as<std::string>();
  if (vars.count("version")) request.version = vars["version"].as<std::uint64_t>();
  if (vars.count("channel")) request.channel = vars["channel"].as<std::string>();
  request.frame_bytes = vars["frame-size"].as<std::uint64_t>();
  request.level = vars["level"].as<int>();
  if (vars.count("key")) request.key = vars["key"].as<std::string>();
  if (request.level < 1 || request.level > 19)
    return usage_error("publish", "--level " + std::to_string(request.level) + ": not 1 to 19");
  const std::string what = "publish " + quoted(request.image);
  auto epoch = source_date_epoch();
  if (!epoch) return report(std::move(epoch.error()).context(what));
  request.created = epoch->value_or(static_cast<std::int64_t>(std::time(nullptr)));

  release::Published published;
  {
    ProgressBar bar("publishing");
    request.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
    auto result = release::publish_release(request);
    if (!result) return report(std::move(result.error()).context(what));
    published = std::move(*result);
  }
  const auto& m = published.manifest;
  const std::uint64_t bs = m.block_size;
  if (published.already)
    std::cout << "release " << m.release() << " is already in " << request.dir
              << " with the same content: nothing changed\n";
  else
    std::cout << "published " << m.release() << " (" << m.filesystem << ", "
              << format_bytes(m.image_size) << ") as " << request.dir << "/"
              << published.manifest_path << "\n";
  std::cout << "blocks: " << format_bytes(published.blocks_new * bs) << " new, "
            << format_bytes(published.blocks_known * bs) << " already in " << request.dir << ", "
            << format_bytes(published.blocks_zero * bs) << " zeros; "
            << format_bytes(published.pack_bytes) << " written compressed, index "
            << format_bytes(published.index_bytes) << "\n";
  std::cout << "sha256 " << m.image_sha256 << "\n";
  if (!published.signed_by.empty()) std::cout << "signed by key " << published.signed_by << "\n";
  if (request.channel)
    std::cout << "channel " << *request.channel << " now names " << m.release() << "\n";
  return kExitOk;
}

}  // namespace imgroot::cli

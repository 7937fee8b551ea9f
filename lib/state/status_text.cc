// The text form of `imgroot status`: for people; scripts use --json.
#include <sstream>

#include "base/bytes.h"
#include "state/status.h"

namespace imgroot::state {

namespace {

void booted_text(std::ostream& out, const HostStatus& s) {
  const Booted& b = s.booted;
  out << "booted:     ";
  if (b.from_this_hostpart) {
    out << *b.image << " (/ is " << *b.root_device << ", backed by " << *b.backing_file << ")\n";
  } else if (b.backing_file) {
    out << "nothing from this host partition (/ is " << *b.root_device << ", backed by "
        << *b.backing_file << ", which is not on " << s.hostpart << ")\n";
  } else {
    out << "nothing from this host partition (/ is "
        << (b.root_device ? *b.root_device : std::string("unknown")) << ", not an image file)\n";
  }
  if (!b.from_this_hostpart) return;  // the running kernel says nothing about this partition
  if (b.kernel_image)
    out << "kernel:     loaded by GRUB from " << *b.kernel_image << " (imgroot.image=)\n";
  else
    out << "kernel:     not from an image (no imgroot.image= on the command line)\n";
}

void image_text(std::ostream& out, const ImageStatus& img) {
  out << "  " << img.name << std::string(20 - img.name.size(), ' ');
  if (!img.present) {
    out << "-\n";
    return;
  }
  out << format_bytes(img.size) << ", modified " << format_rfc3339(img.mtime);
  if (img.record && img.record->staged()) {
    const ImageRecord& r = *img.record;
    out << "\n" << std::string(22, ' ');
    if (!r.sha256.empty())
      out << "sha256 " << r.sha256 << (img.modified_since_staged ? " (as staged; written since)" : "");
    else
      out << "sha256 not computed (a reflink; 'imgroot stage --hash' computes it)"
          << (img.modified_since_staged ? "; written since staged" : "");
    out << "\n" << std::string(22, ' ') << "staged " << r.staged_at << " from " << r.source
        << (r.reflinked ? " as a reflink" : "");
    if (!r.release.empty())
      out << "\n" << std::string(22, ' ') << "release " << r.release << ": "
          << format_bytes(r.bytes_fetched) << " fetched, " << format_bytes(r.bytes_reused)
          << " found on the node";
    if (!r.signed_by.empty())
      out << "\n" << std::string(22, ' ')
          << (r.signed_by == "unsigned"   ? std::string("signature not checked (no keys on the node)")
              : r.signed_by == "insecure" ? std::string("staged with --insecure: not verified")
                                          : "signed by key " + r.signed_by);
  }
  out << "\n";
}

const char* rotation_text(rotation::Action action) {
  switch (action) {
    case rotation::Action::kUpgrade:
      return ", which becomes hn-root.img; hn-root.img becomes hn-root-old.img";
    case rotation::Action::kRevert:
      return ", which becomes hn-root.img again; hn-root.img becomes hn-root-broken.img";
    case rotation::Action::kNone: break;
  }
  return " as it is";
}

void host_text(std::ostream& out, const HostStatus& s) {
  out << "host:       ";
  if (s.host_identity_files == 0)
    out << "the image's defaults (nothing in imgroot/host)\n";
  else
    out << s.host_identity_files << (s.host_identity_files == 1 ? " file" : " files")
        << " in imgroot/host, copied into the root at every boot ('imgroot host show')\n";
}

void overlay_text(std::ostream& out, const HostStatus& s) {
  if (!s.overlay) return;  // offline: says nothing about the running system
  const RunningOverlay& o = *s.overlay;
  out << "overlay:    ";
  if (o.mode == Overlay::kNone) {
    out << "none (the image is the root";
    if (o.root_is_overlay == true) out << "; yet / is an overlay";
    out << ")\n";
    return;
  }
  out << overlay_name(o.mode) << " (imgroot.overlay=" << overlay_name(o.mode) << "; ";
  if (o.root_is_overlay == true)
    out << "/ is an overlay over the read-only image)\n";
  else if (o.root_is_overlay == false)
    out << "but / is not an overlay)\n";
  else
    out << "the mount table is unreadable)\n";
}

}  // namespace

std::string status_to_text(const HostStatus& s) {
  std::ostringstream out;
  out << "hostpart:   " << s.hostpart << "\n";
  booted_text(out, s);
  out << "images:\n";
  for (const auto& img : s.images) image_text(out, img);
  out << "staged:     " << (s.staged ? "yes, hn-root-new.img" : "no") << "\n";
  out << "revert:     " << (s.revert_pending ? "pending (system-revert)" : "no") << "\n";
  out << "next boot:  ";
  if (s.next_boot_image)
    out << *s.next_boot_image << rotation_text(s.next_boot_action) << "\n";
  else
    out << "nothing: there is no image\n";
  out << "assessment: ";
  if (s.assessed_image)
    out << *s.assessed_image << " is " << assessment_name(s.assessment) << "\n";
  else
    out << "no image to assess\n";
  if (s.trial) {
    out << "trial:      ";
    if (auto image = trial_image(s)) out << *image << ": ";
    out << grub::describe_trial(*s.trial) << "\n";
  } else if (!s.trial_note.empty()) {
    out << "trial:      unknown: " << s.trial_note << "\n";
  }
  for (const auto& why : s.explanation) out << "why:        " << why << "\n";
  host_text(out, s);
  overlay_text(out, s);
  if (s.download) {
    const Download& d = *s.download;
    out << "download:   " << d.release << " from " << d.url << ": ";
    if (d.complete)
      out << "downloaded and checked; 'imgroot stage " << d.url << "' stages it\n";
    else
      out << format_bytes(d.written) << " of " << format_bytes(d.image_size) << " written"
          << (d.running ? ", in progress\n"
                        : "; interrupted: 'imgroot stage " + d.url + "' fetches the rest\n");
  }
  if (s.removed_stale_partial)
    out << "note:       removed a partial copy left by an interrupted 'imgroot stage'\n";
  return out.str();
}

}  // namespace imgroot::state

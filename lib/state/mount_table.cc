#include "state/mount_table.h"

#include <libmount/libmount.h>

namespace imgroot::state {

void MountTable::Free::operator()(libmnt_table* t) const { mnt_unref_table(t); }

Result<MountTable> MountTable::read(const std::string& path) {
  libmnt_table* t = mnt_new_table();
  if (!t) return fail("read the mount table: out of memory");
  MountTable table(t);
  if (int rc = mnt_table_parse_file(t, path.c_str()); rc != 0)
    return fail_errno("read the mount table " + quoted(path), rc < 0 ? -rc : EINVAL);
  return table;
}

std::optional<std::string> MountTable::source_at(const std::string& target) const {
  libmnt_fs* fs = mnt_table_find_target(table_.get(), target.c_str(), MNT_ITER_BACKWARD);
  if (!fs || !mnt_fs_get_source(fs)) return std::nullopt;
  return mnt_fs_get_source(fs);
}

std::optional<std::string> MountTable::target_of_tag(const std::string& tag,
                                                     const std::string& value) const {
  struct CacheFree {
    void operator()(libmnt_cache* c) const { mnt_unref_cache(c); }
  };
  std::unique_ptr<libmnt_cache, CacheFree> cache(mnt_new_cache());
  if (!cache) return std::nullopt;
  mnt_table_set_cache(table_.get(), cache.get());
  libmnt_fs* fs = mnt_table_find_tag(table_.get(), tag.c_str(), value.c_str(), MNT_ITER_BACKWARD);
  std::optional<std::string> out;
  if (fs && mnt_fs_get_target(fs)) out = mnt_fs_get_target(fs);
  mnt_table_set_cache(table_.get(), nullptr);
  return out;
}

Result<std::vector<MountedFs>> MountTable::entries() const {
  std::vector<MountedFs> out;
  struct IterFree {
    void operator()(libmnt_iter* i) const { mnt_free_iter(i); }
  };
  std::unique_ptr<libmnt_iter, IterFree> iter(mnt_new_iter(MNT_ITER_FORWARD));
  if (!iter) return fail("read the mount table: out of memory");
  libmnt_fs* fs = nullptr;
  while (mnt_table_next_fs(table_.get(), iter.get(), &fs) == 0) {
    MountedFs m;
    if (const char* s = mnt_fs_get_source(fs)) m.source = s;
    if (const char* t = mnt_fs_get_target(fs)) m.target = t;
    if (const char* t = mnt_fs_get_fstype(fs)) m.fstype = t;
    m.devno = mnt_fs_get_devno(fs);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace imgroot::state

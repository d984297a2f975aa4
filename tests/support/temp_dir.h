// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when
// the object goes. Test-only; not thread-safe.
#pragma once

#include <string>

namespace anomaly::testing {

class TempDir {
 public:
  // Aborts the test binary if mkdtemp fails: nothing sensible can follow.
  explicit TempDir(const std::string& prefix = "anomaly_test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `contents` to `path`, replacing it; false on failure.
bool WriteFile(const std::string& path, const std::string& contents);
// The whole file, or "" when unreadable.
std::string ReadFile(const std::string& path);

}  // namespace anomaly::testing

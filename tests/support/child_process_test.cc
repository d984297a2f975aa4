// The test harness' own contract where a mistake would hide failures: a child's UndefinedBehaviorSanitizer
// report, printed on its stderr (GCC 12's libubsan ignores log_path), reaches the sanitizer report folder.
#include "support/child_process.h"

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace anomaly::testing {
namespace {

using ::testing::HasSubstr;

// Sets UBSAN_OPTIONS for one test and puts back what was there (scripts/test-sanitized.sh sets it for the
// whole run; the sanitizer runtime read it at start-up, so changing it here does not affect this process).
class ScopedUbsanOptions {
 public:
  explicit ScopedUbsanOptions(const std::string& value) {
    if (const char* old = std::getenv("UBSAN_OPTIONS")) old_ = old;
    ::setenv("UBSAN_OPTIONS", value.c_str(), 1);
  }
  ~ScopedUbsanOptions() {
    if (old_) {
      ::setenv("UBSAN_OPTIONS", old_->c_str(), 1);
    } else {
      ::unsetenv("UBSAN_OPTIONS");
    }
  }

 private:
  std::optional<std::string> old_;
};

// Runs `/bin/sh -c script` to completion with its output in dir/child.log; returns its pid.
pid_t RunShell(const TempDir& dir, const std::string& script) {
  ChildOptions options;
  options.argv = {"/bin/sh", "-c", script};
  options.log_file = dir.File("child.log");
  auto child = ChildProcess::Start(options);
  EXPECT_TRUE(child.has_value()) << child.error().message;
  if (!child) return -1;
  EXPECT_TRUE((*child)->Wait(std::chrono::seconds(10)).has_value());
  return (*child)->pid();
}

TEST(ChildProcessTest, CopiesAChildsUndefinedBehaviorReportToTheReportFolder) {
  TempDir dir("child_process_test");
  ScopedUbsanOptions options("halt_on_error=1:log_path=" + dir.File("ignored") + ":log_path=" +
                             dir.File("ubsan") + ":print_stacktrace=1");
  pid_t pid = RunShell(dir,
                       "echo 'serving on :10650'; "
                       "echo 'exporter/app/daemon.cc:12:5: runtime error: signed integer overflow'; "
                       "echo '    #0 0x1 in Shutdown exporter/app/daemon.cc:12'; "
                       "echo 'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior daemon.cc:12:5'");
  std::string report = ReadFile(dir.File("ubsan.child." + std::to_string(pid)));
  EXPECT_THAT(report, HasSubstr("runtime error: signed integer overflow"));
  EXPECT_THAT(report, HasSubstr("SUMMARY: UndefinedBehaviorSanitizer"));
  EXPECT_THAT(report, HasSubstr(dir.File("child.log")));
  EXPECT_THAT(report, ::testing::Not(HasSubstr("serving on")));  // the report, not the whole log
  EXPECT_EQ(ReadFile(dir.File("ignored.child." + std::to_string(pid))), "");  // the last log_path wins
}

TEST(ChildProcessTest, CopiesNothingFromACleanLogOrWithoutALogPath) {
  TempDir dir("child_process_test");
  {
    ScopedUbsanOptions options("log_path=" + dir.File("ubsan"));
    pid_t pid = RunShell(dir, "echo 'panic: runtime error: index out of range'");  // not UBSan's
    EXPECT_EQ(ReadFile(dir.File("ubsan.child." + std::to_string(pid))), "");
  }
  ScopedUbsanOptions options("halt_on_error=1");  // no log_path: the report stays in the child's log
  RunShell(dir, "echo 'SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior a.cc:1:1'");
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    files.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(files, ::testing::ElementsAre("child.log"));
}

}  // namespace
}  // namespace anomaly::testing

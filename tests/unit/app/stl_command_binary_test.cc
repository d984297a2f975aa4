// The real anomaly_exporter binary (ANOMALY_EXPORTER_BINARY, set by CMake to $<TARGET_FILE:...>):
// the dispatcher in main, exit statuses, and that stdout/stderr carry what the contract says.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace anomaly::app {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs the binary with `args`, `stdin_text` on its standard input; stdout and stderr go to temporary
// files read back after it exits.
Outcome RunBinary(const std::vector<std::string>& args, const std::string& stdin_text = "") {
  std::string dir_template = ::testing::TempDir() + "anomaly_stl_binary_XXXXXX";
  const char* dir = mkdtemp(dir_template.data());
  EXPECT_NE(dir, nullptr);
  const std::string in_path = std::string(dir) + "/stdin", out_path = std::string(dir) + "/stdout",
                    err_path = std::string(dir) + "/stderr";
  std::ofstream(in_path) << stdin_text;

  std::vector<std::string> argv_strings = {ANOMALY_EXPORTER_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid == 0) {
    const int in = open(in_path.c_str(), O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Outcome run;
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << "status " << status;
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = ReadFile(out_path);
  run.err = ReadFile(err_path);
  for (const std::string& p : {in_path, out_path, err_path}) unlink(p.c_str());
  rmdir(dir);
  return run;
}

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, sep);) parts.push_back(part);
  return parts;
}

const std::string kTestdata = ANOMALY_TESTDATA_DIR "/app/";

TEST(StlCommandBinaryTest, GoodRunWritesHeaderAndOneRowPerValue) {
  Outcome run = RunBinary({"stl", "--period", "24", "--seasonal", "7", "--input", kTestdata + "daily.txt"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  std::vector<std::string> lines = Split(run.out, '\n');
  std::vector<std::string> values = Split(ReadFile(kTestdata + "daily.txt"), '\n');
  ASSERT_EQ(lines.size(), values.size() + 1);
  EXPECT_EQ(lines[0], "value,seasonal,trend,remainder");
  for (size_t i = 0; i < values.size(); ++i) {
    std::vector<std::string> fields = Split(lines[i + 1], ',');
    ASSERT_EQ(fields.size(), 4u) << lines[i + 1];
    const double value = std::strtod(values[i].c_str(), nullptr);
    EXPECT_EQ(std::strtod(fields[0].c_str(), nullptr), value) << "line " << i + 2;
    const double sum = std::strtod(fields[1].c_str(), nullptr) + std::strtod(fields[2].c_str(), nullptr) +
                       std::strtod(fields[3].c_str(), nullptr);
    EXPECT_NEAR(sum, value, 1e-9) << "line " << i + 2 << ": seasonal + trend + remainder != value";
  }
}

TEST(StlCommandBinaryTest, ReadsCsvFromStdinByDefault) {
  Outcome run = RunBinary({"stl", "--period=24", "--seasonal=periodic", "--robust"}, ReadFile(kTestdata + "daily.csv"));
  ASSERT_EQ(run.code, 0) << run.err;
  std::vector<std::string> lines = Split(run.out, '\n');
  ASSERT_EQ(lines.size(), 73u);
  EXPECT_EQ(lines[0], "timestamp,value,seasonal,trend,remainder,weight");
  EXPECT_THAT(lines[1], StartsWith("1704067200,100,"));
  EXPECT_THAT(lines[72], StartsWith("1704322800,"));  // 2024-01-03 23:00:00 UTC
}

TEST(StlCommandBinaryTest, DashMeansStdin) {
  Outcome run = RunBinary({"stl", "--period=24", "--seasonal=7", "--input=-"}, ReadFile(kTestdata + "daily.txt"));
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(Split(run.out, '\n').size(), 73u);
}

struct BadCase {
  std::vector<std::string> args;
  std::string stdin_text;
  std::string message;  // the whole of stderr, without its newline
};

TEST(StlCommandBinaryTest, BadInputOrFlagsExitTwoWithOneLineAndNoOutput) {
  const std::string daily = ReadFile(kTestdata + "daily.txt");
  const std::vector<std::string> daily_lines = Split(daily, '\n');
  std::string first_40;
  for (size_t i = 0; i < 40; ++i) first_40 += daily_lines[i] + "\n";
  const std::vector<BadCase> cases = {
      {{"stl", "--period=24", "--seasonal=7", "--input", kTestdata + "bad_value.txt"}, "",
       "anomaly_exporter: stl: input line 17: \"abc\" is not a number"},
      {{"stl", "--period=24", "--seasonal=7"}, "1\n2\ninf\n", "anomaly_exporter: stl: input line 3: \"inf\" is not a finite number"},
      {{"stl", "--period=24", "--seasonal=7"}, first_40,
       "anomaly_exporter: stl: input has 40 values; --period 24 needs at least 48 (two full periods)"},
      {{"stl", "--period=0", "--seasonal=7"}, daily,
       "anomaly_exporter: stl: flag --period: must be at least 2 samples per season, got 0"},
      {{"stl", "--seasonal=7"}, daily, "anomaly_exporter: stl: flag --period is required"},
      {{"stl", "--period=24", "--seasonal=7", "--frobnicate"}, daily, "anomaly_exporter: stl: unknown flag --frobnicate"},
      {{"stl", "--period=24", "--seasonal=7", "--input=/nonexistent/x.txt"}, "",
       "anomaly_exporter: stl: cannot open input file \"/nonexistent/x.txt\": No such file or directory"},
  };
  for (const BadCase& c : cases) {
    Outcome run = RunBinary(c.args, c.stdin_text);
    EXPECT_EQ(run.code, 2) << c.message;
    EXPECT_EQ(run.err, c.message + "\n");
    EXPECT_EQ(run.out, "") << c.message;
  }
}

TEST(StlCommandBinaryTest, OutOfRangeParameterExitsTwoWithOneLine) {
  Outcome run = RunBinary({"stl", "--period=24", "--seasonal=4"}, ReadFile(kTestdata + "daily.txt"));
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, StartsWith("anomaly_exporter: stl: flag --seasonal: "));
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_EQ(run.out, "");
}

TEST(StlCommandBinaryTest, HelpExitsZeroAndMentionsEveryFlag) {
  Outcome run = RunBinary({"stl", "--help"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.err, "");
  for (const char* flag : {"--period", "--seasonal", "--seasonal-degree", "--seasonal-jump", "--trend", "--trend-degree",
                           "--trend-jump", "--lowpass", "--lowpass-degree", "--lowpass-jump", "--robust", "--inner",
                           "--outer", "--input", "--help"}) {
    EXPECT_THAT(run.out, HasSubstr(std::string("  ") + flag)) << flag;
  }
}

TEST(StlCommandBinaryTest, TopLevelVersionAndHelp) {
  Outcome version = RunBinary({"--version"});
  EXPECT_EQ(version.code, 0);
  EXPECT_THAT(version.out, StartsWith("anomaly_exporter, version "));
  Outcome help = RunBinary({"--help"});
  EXPECT_EQ(help.code, 0);
  // The top-level command line is the daemon's: its help names the daemon flags and the subcommands.
  EXPECT_THAT(help.out, HasSubstr("--config.file"));
  EXPECT_THAT(help.out, HasSubstr("--web.listen-address"));
  EXPECT_THAT(help.out, HasSubstr("anomaly_exporter stl "));
  EXPECT_THAT(help.out, HasSubstr("anomaly_exporter check-config FILE"));
}

TEST(StlCommandBinaryTest, UnknownCommandOrFlagExitsTwo) {
  Outcome run = RunBinary({"frobnicate"});
  EXPECT_EQ(run.code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "anomaly_exporter: unknown command \"frobnicate\" (see --help)\n");
  Outcome flag = RunBinary({"--frobnicate"});
  EXPECT_EQ(flag.code, 2);
  EXPECT_EQ(flag.err, "anomaly_exporter: unknown flag --frobnicate\n");
}


// --stl-periodic is spelled in the config as seasonal_window: periodic; it once wrote an unknown key
// (`periodic:`), so every run with the flag exited 2.
TEST(BacktestBinaryTest, StlPeriodicFlagSelectsThePeriodicSeasonal) {
  std::string csv = "timestamp,value\n";
  for (int i = 0; i < 24 * 5; ++i) {
    csv += std::to_string(i * 3600) + "," + std::to_string(10 + (i % 24 < 12 ? 1 : -1) + (i * 7 % 5) * 0.1) + "\n";
  }
  const std::vector<std::string> base = {"backtest", "--input=-", "--seasonality=1d", "--history=4d",
                                         "--no-progress"};
  auto with = [&](const std::string& flag) {
    std::vector<std::string> args = base;
    args.push_back(flag);
    return RunBinary(args, csv);
  };
  Outcome periodic = with("--stl-periodic=true"), windowed = with("--stl-periodic=false");
  EXPECT_EQ(periodic.code, 0) << periodic.err;
  EXPECT_EQ(windowed.code, 0) << windowed.err;
  EXPECT_THAT(periodic.out, StartsWith("timestamp,value,expected"));
  EXPECT_NE(periodic.out, windowed.out);  // a different seasonal smoother, different expected values
  Outcome bad = with("--stl-periodic=maybe");
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--stl-periodic: must be true or false"));
}


// --kind multivariate (issue 17): a wide CSV is one group; the output is timestamp,score,flag,state,top.
TEST(BacktestBinaryTest, MultivariateKindFlagsTheMemberThatLeftItsPeersAndNamesIt) {
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 1);
  std::string csv = "timestamp,cpu,memory,latency\n";
  const int rows = 1200, broken_from = 1150;
  for (int i = 0; i < rows; ++i) {
    const double load = noise(rng);
    double cpu = 50 + 5 * (0.9 * load + 0.44 * noise(rng));
    const double memory = 1000 + 40 * (0.9 * load + 0.44 * noise(rng));
    const double latency = 0.2 + 0.01 * (0.9 * load + 0.44 * noise(rng));
    if (i >= broken_from && i < broken_from + 10) cpu += 15;  // cpu alone, 3 of its sigmas: within its band
    csv += std::to_string(1700000000 + 60 * i) + "," + std::to_string(cpu) + "," + std::to_string(memory) + "," +
           std::to_string(latency) + "\n";
  }
  Outcome r = RunBinary({"backtest", "--input=-", "--kind=multivariate", "--no-progress", "--history=1d",
                         "--from=" + std::to_string(1700000000 + 60 * 600)},
                        csv);
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "timestamp,score,flag,state,top");
  int index = 0, onsets_before = 0, onsets_during = 0;
  std::string top_at_onset;
  bool was_flagged = false;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    while (f.size() < 5) f.emplace_back();
    const bool flagged = f[2] == "1";
    if (flagged && !was_flagged) {
      if (index < broken_from) ++onsets_before;
      if (index >= broken_from && index < broken_from + 10) {
        ++onsets_during;
        top_at_onset = f[4];
      }
    }
    if (index >= 601) {
      EXPECT_EQ(f[3], "ok") << index;
    }
    was_flagged = flagged;
    ++index;
  }
  EXPECT_EQ(index, rows);
  EXPECT_EQ(onsets_before, 0);
  EXPECT_EQ(onsets_during, 1);
  EXPECT_THAT(top_at_onset, StartsWith("cpu;"));

  Outcome narrow = RunBinary({"backtest", "--input=-", "--kind=multivariate"}, "timestamp,cpu\n1,2\n");
  EXPECT_EQ(narrow.code, 2);
  EXPECT_THAT(narrow.err, HasSubstr("input line 1: a group needs a header"));
  Outcome bad_kind = RunBinary({"backtest", "--input=-", "--kind=peer"}, "timestamp,cpu\n1,2\n");
  EXPECT_EQ(bad_kind.code, 2);
  EXPECT_THAT(bad_kind.err, HasSubstr("--kind: \"peer\" is not series, multivariate or peers"));
}

// --kind peers (issue 17): a wide CSV of pods on one curve; one block of
// member,timestamp,score,flag,state,top per pod. pod-c drifts away from its peers over the last 40 rows and
// is the only pod flagged.
TEST(BacktestBinaryTest, PeersKindFlagsTheDriftingPodAloneInItsOwnBlock) {
  std::mt19937 rng(13);
  std::normal_distribution<double> noise(0, 1);
  const std::vector<std::string> pods = {"pod-a", "pod-b", "pod-c", "pod-d", "pod-e", "pod-f"};
  std::string csv = "timestamp";
  for (const std::string& p : pods) csv += "," + p;
  csv += "\n";
  const int rows = 1200, drift_from = 1160;
  for (int i = 0; i < rows; ++i) {
    const double curve = 200 + 80 * std::sin(2 * M_PI * i / 288.0);
    csv += std::to_string(1700000000 + 60 * i);
    for (size_t p = 0; p < pods.size(); ++p) {
      double v = curve + 2.0 * static_cast<double>(p) + noise(rng);
      if (p == 2 && i >= drift_from) v += 0.4 * (i - drift_from);  // up to 16 above its usual place
      csv += "," + std::to_string(v);
    }
    csv += "\n";
  }
  Outcome r = RunBinary({"backtest", "--input=-", "--kind=peers", "--no-progress", "--history=1d",
                         "--from=" + std::to_string(1700000000 + 60 * 600)},
                        csv);
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "member,timestamp,score,flag,state,top");
  std::map<std::string, int> rows_of, onsets_of;
  std::map<std::string, bool> was_flagged;
  std::string top_at_end;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    while (f.size() < 6) f.emplace_back();
    const int index = rows_of[f[0]]++;
    const bool flagged = f[3] == "1";
    if (flagged && !was_flagged[f[0]]) ++onsets_of[f[0]];
    was_flagged[f[0]] = flagged;
    if (index >= 601) {
      EXPECT_EQ(f[4], "ok") << f[0] << " row " << index;
    }
    if (f[0] == "pod-c" && index == rows - 1) top_at_end = f[5];
  }
  ASSERT_EQ(rows_of.size(), pods.size());
  for (const std::string& p : pods) {
    EXPECT_EQ(rows_of[p], rows) << p;
    EXPECT_EQ(onsets_of[p], p == "pod-c" ? 1 : 0) << p;
  }
  EXPECT_THAT(top_at_end, StartsWith("pod-c;"));

  Outcome narrow = RunBinary({"backtest", "--input=-", "--kind=peers"}, "timestamp,a,b\n1,2,3\n");
  EXPECT_EQ(narrow.code, 2);
  EXPECT_THAT(narrow.err, HasSubstr("peers need at least three series"));
}

}  // namespace
}  // namespace anomaly::app

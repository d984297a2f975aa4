// The backtest's HTML report in a real browser: `anomaly_exporter backtest --report` on a testdata CSV,
// rendered by headless Debian chromium to a PNG, and the PNG decoded (python3 stdlib: zlib) to check that
// the page is not blank and that the chart really drew: the band's blue and the flag markers' red. And the
// CSV input's --from, which takes the rows before it at once, as the daemon's first cycle takes its history.
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/child_process.h"
#include "support/temp_dir.h"

namespace anomaly::testing {
namespace {

// Prints "<width> <height> <distinct colours> <non-white pixels> <band pixels> <marker pixels>".
constexpr const char* kPngStats = R"PY(
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), (depth, ctype)
        bpp = 3 if ctype == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, nonwhite, band, marker = set(), 0, 0, 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = line[x], line[x + 1], line[x + 2]
        colours.add((r, g, bl))
        if (r, g, bl) != (255, 255, 255): nonwhite += 1
        if bl > 200 and g > 180 and r < 225 and bl - r > 20: band += 1
        if r > 150 and g < 60 and bl < 60: marker += 1
    prev = line
print(w, h, len(colours), nonwhite, band, marker)
)PY";

std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof buffer, p)) out.append(buffer, n);
  pclose(p);
  return out;
}

TEST(BacktestReportTest, RendersInHeadlessChromium) {
  const std::string chromium = FindExecutable("chromium");
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed (scripts/install-deps.sh test)";
  TempDir dir("anomaly_backtest_report");
  const std::string html = dir.File("report.html"), png = dir.File("report.png");
  const std::string backtest = std::string(ANOMALY_EXPORTER_BIN) + " backtest --input " ANOMALY_TESTDATA_DIR
                               "/backtest/daily_spike.csv --seasonality=1d --output " + dir.File("out.csv") +
                               " --report " + html + " 2>&1";
  const std::string backtest_out = Capture(backtest + "; echo rc=$?");
  ASSERT_THAT(backtest_out, ::testing::HasSubstr("rc=0")) << backtest_out;
  const std::string page = ReadFile(html);
  ASSERT_THAT(page, ::testing::HasSubstr("<svg"));
  EXPECT_THAT(page, ::testing::Not(::testing::HasSubstr("http://")));
  EXPECT_THAT(page, ::testing::Not(::testing::HasSubstr("https://")));

  const std::string shot = chromium + " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                           "--disable-background-networking --disable-component-update --disable-sync "
                           "--user-data-dir=" + dir.File("profile") + " --screenshot=" + png +
                           " --window-size=1200,800 file://" + html + " > " + dir.File("chromium.log") + " 2>&1";
  ASSERT_EQ(std::system(("timeout 120 " + shot).c_str()), 0) << ReadFile(dir.File("chromium.log"));
  ASSERT_TRUE(WriteFile(dir.File("png_stats.py"), kPngStats));
  std::istringstream stats(Capture("python3 " + dir.File("png_stats.py") + " " + png));
  long width = 0, height = 0, colours = 0, nonwhite = 0, band = 0, marker = 0;
  ASSERT_TRUE(stats >> width >> height >> colours >> nonwhite >> band >> marker) << "png_stats failed on " << png;
  EXPECT_EQ(width, 1200);
  EXPECT_EQ(height, 800);
  EXPECT_GT(colours, 50);                     // text antialiasing, lines, band: far from a blank page
  EXPECT_GT(nonwhite, width * height / 50);   // more than 2% of the page drawn
  EXPECT_GT(band, 5000);                      // the band is a visible area
  EXPECT_GT(marker, 20);                      // at least one flag marker (the spike) is on screen
}


TEST(BacktestReportTest, CsvFromTakesTheRowsBeforeItAtOnceAsTheFirstCycle) {
  // daily_spike.csv: 4 days at 5m from 1704067200. With --from two days in, the rows before it are the
  // first cycle's history (no verdict) and the row at --from is scored by one fit of those two days; without
  // it the model grows from the first row and the day before --from is already scored.
  const std::string base = std::string(ANOMALY_EXPORTER_BIN) + " backtest --no-progress --input " ANOMALY_TESTDATA_DIR
                           "/backtest/daily_spike.csv --seasonality=1d --history=2d";
  const int64_t from = 1704067200 + 2 * 86400;
  auto states = [&](const std::string& extra) {
    std::map<int64_t, std::string> out;
    std::istringstream lines(Capture(base + extra + " 2>/dev/null"));
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      const int64_t t = std::stoll(line.substr(0, line.find(',')));
      out[t] = line.substr(line.rfind(',') + 1);
    }
    return out;
  };
  const std::map<int64_t, std::string> first_cycle = states(" --from=" + std::to_string(from));
  const std::map<int64_t, std::string> grown = states("");
  ASSERT_EQ(first_cycle.size(), 1152u);
  ASSERT_EQ(grown.size(), 1152u);
  for (const auto& [t, state] : first_cycle) {
    if (t < from) {
      EXPECT_NE(state, "ok") << t;
    }
  }
  EXPECT_EQ(first_cycle.at(from), "ok");
  EXPECT_EQ(grown.at(from - 3600), "ok");
}

}  // namespace
}  // namespace anomaly::testing

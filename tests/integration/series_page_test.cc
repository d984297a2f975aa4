// The series page (/series, docs/ui.md) on the real anomaly_exporter binary against a real Prometheus
// backfilled with the demo workload, whose newest minutes hold an incident: reached from the link that
// /api/v1/anomalies gives (absolute under --web.external-url), 404 and 400 for selectors that name no
// series or several, and rendered by headless Debian chromium at several window sizes, each PNG decoded
// (python3 stdlib) to check that the page is not blank and that the chart drew: the value line, the band
// and the flagged episode's shading. Its feedback buttons are a plain form: posted as a browser posts it,
// the answer is 303 back to the page, which then shows the feedback and the series' margin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <utility>

#include "support/child_process.h"
#include "support/eventually.h"
#include "support/free_port.h"
#include "support/http_fetch.h"
#include "support/prometheus_process.h"
#include "support/temp_dir.h"

namespace anomaly::testing {
namespace {

using ::testing::HasSubstr;
using std::chrono::seconds;

constexpr const char* kExternalUrl = "http://anomaly.example:10650";

// Prints "<width> <height> <distinct colours> <non-white pixels> <line pixels> <band pixels> <episode pixels>"
// for the page's colours: the value line #6a3d9a, the band #9ecae1 at half opacity, the episode #fdae6b.
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
colours, nonwhite, line_px, band, episode = set(), 0, 0, 0, 0
for y in range(h):
    f = raw[y * (stride + 1)]
    row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: row[i] = (row[i] + a) & 255
        elif f == 2: row[i] = (row[i] + b) & 255
        elif f == 3: row[i] = (row[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        r, g, bl = row[x], row[x + 1], row[x + 2]
        colours.add((r, g, bl))
        if (r, g, bl) != (255, 255, 255): nonwhite += 1
        if bl - g > 45 and r - g > 20 and bl > 120: line_px += 1
        if bl > 200 and g > 180 and r < 225 and bl - r > 20: band += 1
        if r > 240 and 170 < g < 235 and bl < 200 and r - bl > 50: episode += 1
    prev = row
print(w, h, len(colours), nonwhite, line_px, band, episode)
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

class SeriesPageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("anomaly_series_page_test");
    const std::string om = dir_->File("history.om");
    const int64_t last = std::time(nullptr) / 60 * 60 - 60;
    const std::string cmd = "python3 " ANOMALY_SOURCE_DIR "/scripts/workload.py backfill --days 3 --step 60 "
                            "--recent-incident 15 --end " + std::to_string(last) + " --out " + om;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto prom = PrometheusProcess::Start({.openmetrics_file = om});
    ASSERT_TRUE(prom.has_value()) << prom.error().message;
    prometheus_ = prom->release();

    const std::string config = dir_->File("config.yml");
    ASSERT_TRUE(WriteFile(config, "prometheus:\n  url: " + prometheus_->url() +
                                      "\n  timeout: 5s\n"
                                      "defaults:\n  step: 1m\n  history: 3d\n  interval: 30s\n"
                                      "  seasonality: [1d]\n  threshold: {floor: 5}\n"
                                      "detectors:\n  - name: requests\n    query: demo_http_requests_per_second\n"));
    port_ = FreePort();
    ChildOptions exporter;
    exporter.argv = {ANOMALY_EXPORTER_BIN, "--config.file=" + config,
                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                     std::string("--web.external-url=") + kExternalUrl + "/"};
    exporter.log_file = dir_->File("exporter.log");
    auto e = ChildProcess::Start(exporter);
    ASSERT_TRUE(e.has_value()) << e.error().message;
    exporter_ = e->release();
    ASSERT_TRUE(Eventually([] { auto r = HttpGet(Url("/-/ready")); return r && r->status == 200; }, seconds(120)))
        << exporter_->LogTail();
  }

  static void TearDownTestSuite() {
    delete exporter_;
    delete prometheus_;
    delete dir_;
  }

  void TearDown() override {
    if (HasFailure() && exporter_ != nullptr) std::cerr << "exporter log:\n" << exporter_->LogTail() << "\n";
  }

  static std::string Url(const std::string& path) { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // The flagged checkout series' page path, from the anomalies API's link. Kept once found: a false
  // positive given by a test may unflag the series.
  static std::string CheckoutPath() {
    static std::string found;
    if (!found.empty()) return found;
    std::string path = FindCheckoutPath();
    if (path.starts_with("/series?")) found = path;
    return path;
  }
  static std::string FindCheckoutPath() {
    auto r = HttpGet(Url("/api/v1/anomalies"));
    if (!r || r->status != 200) return "";
    const nlohmann::json body = nlohmann::json::parse(r->body);
    for (const auto& s : body["data"]) {
      if (s["labels"].value("service", "") != "checkout") continue;
      const std::string url = s["url"];
      if (!url.starts_with(kExternalUrl)) return "bad url " + url;
      return url.substr(std::string(kExternalUrl).size());
    }
    return "no flagged checkout series in " + r->body;
  }

  static inline TempDir* dir_ = nullptr;
  static inline PrometheusProcess* prometheus_ = nullptr;
  static inline ChildProcess* exporter_ = nullptr;
  static inline int port_ = 0;
};

TEST_F(SeriesPageTest, TheAnomaliesApiLinksToThePageOfTheFlaggedSeries) {
  const std::string path = CheckoutPath();
  ASSERT_THAT(path, ::testing::StartsWith("/series?detector=requests&")) << path;
  EXPECT_THAT(path, HasSubstr("metric_name=demo_http_requests_per_second"));
  auto r = HttpGet(Url(path), seconds(30));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_THAT(r->body, HasSubstr("<svg"));
  EXPECT_THAT(r->body, HasSubstr("class=\"band\""));
  EXPECT_THAT(r->body, HasSubstr("class=\"episode\""));
  EXPECT_THAT(r->body, HasSubstr("Flagged since"));
  EXPECT_THAT(r->body, HasSubstr("<td>stl</td>"));
  EXPECT_THAT(r->body, ::testing::Not(HasSubstr("<script")));
  // The landing page links to it too, and the self-metric carries the external URL for the rules.
  auto landing = HttpGet(Url("/"));
  ASSERT_TRUE(landing.has_value());
  EXPECT_THAT(landing->body, HasSubstr("href=\"/series?detector=requests&amp;"));
  auto metrics = HttpGet(Url("/metrics"));
  ASSERT_TRUE(metrics.has_value());
  EXPECT_THAT(metrics->body, HasSubstr(std::string("anomaly_exporter_web_info{external_url=\"") + kExternalUrl + "\"} 1"));
}

TEST_F(SeriesPageTest, SelectorsNamingNoSeriesOrSeveralAreRefused) {
  auto r = HttpGet(Url("/series?detector=nope"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(r->body, HasSubstr("no detector &quot;nope&quot;"));
  r = HttpGet(Url("/series?detector=requests&service=nope"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  r = HttpGet(Url("/series?detector=requests"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("service=checkout"));
  r = HttpGet(Url("/series"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
}

// The text between `after` and the next `until` in `html`, from `from` on; empty when absent.
std::string Between(const std::string& html, const std::string& after, char until, size_t from = 0) {
  const size_t a = html.find(after, from);
  if (a == std::string::npos) return "";
  const size_t b = html.find(until, a + after.size());
  return b == std::string::npos ? "" : html.substr(a + after.size(), b - a - after.size());
}

std::string UnescapeHtml(std::string s) {
  for (const auto& [entity, c] : {std::pair<std::string, std::string>{"&quot;", "\""},
                                  {"&#39;", "'"},
                                  {"&lt;", "<"},
                                  {"&gt;", ">"},
                                  {"&amp;", "&"}}) {
    for (size_t at = s.find(entity); at != std::string::npos; at = s.find(entity, at + c.size())) {
      s.replace(at, entity.size(), c);
    }
  }
  return s;
}

// application/x-www-form-urlencoded, as a browser encodes a field.
std::string FormEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

TEST_F(SeriesPageTest, TheFeedbackButtonPostsAFormAnsweredBackToThePageWhichShowsTheFeedbackAndMargin) {
  const std::string path = CheckoutPath();
  ASSERT_THAT(path, ::testing::StartsWith("/series?")) << path;
  auto page = HttpGet(Url(path), seconds(30));
  ASSERT_TRUE(page.has_value()) << page.error().message;
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_THAT(page->body, HasSubstr("<th>feedback margin</th><td>0: "));
  // The newest episode's form (the table is newest first): what a click on "False positive" posts.
  const size_t form = page->body.find("<form class=\"feedback\" method=\"post\"");
  ASSERT_NE(form, std::string::npos) << page->body;
  const std::string action = UnescapeHtml(Between(page->body, "action=\"", '"', form));
  ASSERT_THAT(action, ::testing::MatchesRegex("/api/v1/episodes/[0-9a-f]{32}/feedback"));
  const std::string id = action.substr(std::string("/api/v1/episodes/").size(), 32);
  const std::string back = UnescapeHtml(Between(page->body, "name=\"return\" value=\"", '"', form));
  EXPECT_EQ(back, path);
  const std::string origin = "http://127.0.0.1:" + std::to_string(port_);
  const std::string body = "return=" + FormEncode(back) + "&comment=" + FormEncode("a <load> test & more") +
                           "&verdict=false_positive";

  // A page of another site cannot post it.
  auto foreign = HttpPostWithHeaders(Url(action), body, "application/x-www-form-urlencoded",
                                     {"Origin: https://evil.example"});
  ASSERT_TRUE(foreign.has_value()) << foreign.error().message;
  EXPECT_EQ(foreign->status, 403) << foreign->body;

  auto posted = HttpPostWithHeaders(Url(action), body, "application/x-www-form-urlencoded",
                                    {"Origin: " + origin, "Referer: " + origin + path});
  ASSERT_TRUE(posted.has_value()) << posted.error().message;
  EXPECT_EQ(posted->status, 303) << posted->body;
  EXPECT_EQ(posted->location, path);

  auto after = HttpGet(Url(posted->location), seconds(30));
  ASSERT_TRUE(after.has_value()) << after.error().message;
  ASSERT_EQ(after->status, 200) << after->body;
  EXPECT_THAT(after->body, HasSubstr("<code>" + id + "</code>"));
  EXPECT_THAT(after->body, HasSubstr("<span class=\"fb-false_positive\">false positive</span>, "));
  EXPECT_THAT(after->body, HasSubstr("&ldquo;a &lt;load&gt; test &amp; more&rdquo;"));
  EXPECT_THAT(after->body,
              ::testing::ContainsRegex("<th>feedback margin</th><td>\\+[0-9.]+: the score needs to reach"));
  // The API agrees.
  auto episodes = HttpGet(Url("/api/v1/episodes"));
  ASSERT_TRUE(episodes.has_value());
  EXPECT_THAT(episodes->body, HasSubstr("\"id\":\"" + id + "\""));
  EXPECT_THAT(episodes->body, HasSubstr("\"comment\":\"a <load> test & more\""));
}

TEST_F(SeriesPageTest, RendersInHeadlessChromiumAtSeveralWindowSizes) {
  const std::string chromium = FindExecutable("chromium");
  ASSERT_FALSE(chromium.empty()) << "chromium is not installed (scripts/install-deps.sh test)";
  const std::string path = CheckoutPath();
  ASSERT_THAT(path, ::testing::StartsWith("/series?")) << path;
  ASSERT_TRUE(WriteFile(dir_->File("png_stats.py"), kPngStats));
  const struct {
    int width, height;
  } sizes[] = {{1280, 900}, {800, 600}, {412, 915}};
  for (const auto& size : sizes) {
    SCOPED_TRACE(std::to_string(size.width) + "x" + std::to_string(size.height));
    const std::string png = dir_->File("series_" + std::to_string(size.width) + ".png");
    // The URL is single-quoted for the shell: it holds '&'.
    const std::string shot = chromium + " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                             "--disable-background-networking --disable-component-update --disable-sync "
                             "--user-data-dir=" + dir_->File("profile") + " --screenshot=" + png +
                             " --window-size=" + std::to_string(size.width) + "," + std::to_string(size.height) +
                             " '" + Url(path) + "' > " + dir_->File("chromium.log") + " 2>&1";
    ASSERT_EQ(std::system(("timeout 120 " + shot).c_str()), 0) << ReadFile(dir_->File("chromium.log"));
    std::istringstream stats(Capture("python3 " + dir_->File("png_stats.py") + " " + png));
    long width = 0, height = 0, colours = 0, nonwhite = 0, line = 0, band = 0, episode = 0;
    ASSERT_TRUE(stats >> width >> height >> colours >> nonwhite >> line >> band >> episode)
        << "png_stats failed on " << png;
    std::cerr << "  " << width << "x" << height << ": " << colours << " colours, " << nonwhite << " non-white, "
              << line << " line, " << band << " band, " << episode << " episode pixels (" << png << ")\n";
    EXPECT_EQ(width, size.width);
    EXPECT_EQ(height, size.height);
    const long area = width * height;
    EXPECT_GT(colours, 50);              // text antialiasing, lines, band: far from a blank page
    EXPECT_GT(nonwhite, area / 50);      // more than 2% of the page drawn
    EXPECT_GT(line, width / 2);          // the value line crosses the chart (about its width in pixels)
    EXPECT_GT(band, area / 500);         // the band is a visible area
    EXPECT_GT(episode, 20);              // the incident's shading is on screen
  }
}

}  // namespace
}  // namespace anomaly::testing

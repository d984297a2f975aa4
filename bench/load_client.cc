// Open-loop HTTP load on the exporter's read endpoints (bench/load_bench.sh drives it): the C++
// replacement of bench/load.py, whose own CPU (about 50 s per 60 s run: Python reading and scanning
// ~1 MB bodies on 32 threads) took one of the machine's two cores from the server it was measuring.
//
// Requests go out on a fixed schedule (--rps in total), whether or not earlier ones have answered; each
// latency is measured from the request's *scheduled* time, so a stalled server shows up as latency
// instead of silently lowering the rate (no coordinated omission). A fixed pool of --workers threads,
// each with one keep-alive connection (a libcurl easy handle), bounds the concurrency; a request that
// waits for a free worker counts that wait as latency. Loopback only.
//
// Every /metrics body is also read for anomaly_exporter_fit_duration_seconds_count, so the report can
// compare latency in the seconds when refits ran with the other seconds (scrapes must never wait for
// a cycle). Prints, per path and overall: requests, errors, p50 / p99 / max latency in ms.
//
//   anomaly_load_client --url http://127.0.0.1:9400 [--rps 200] [--seconds 60] [--metrics-share 0.1]
//       [--workers 32] [--timeout 5] [--gzip] [--cacert CA --user U --password P]
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url;
  std::vector<std::string> paths;
  double rps = 200;
  double seconds = 60;
  std::optional<double> metrics_share;
  int workers = 32;
  double timeout = 5;
  bool gzip = false;
  std::string cacert, user, password;
  bool has_user = false;
};

struct Job {
  std::string path;
  Clock::time_point scheduled;
};

struct Row {
  std::string path;
  double scheduled_s = 0;  // since the start of the schedule
  double latency_ms = 0;
  std::string error;       // empty: success
  double fits = -1;        // /metrics only; -1: not read
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "anomaly_load_client: %s\n", why.c_str());
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    const size_t eq = a.find('=');
    auto next = [&]() -> std::string {
      if (eq != std::string::npos) return a.substr(eq + 1);
      if (i + 1 >= argc) Usage(a + " needs a value");
      return argv[++i];
    };
    const std::string name = a.substr(0, eq);
    if (name == "--url") o.url = next();
    else if (name == "--path") o.paths.push_back(next());
    else if (name == "--rps") o.rps = std::atof(next().c_str());
    else if (name == "--seconds") o.seconds = std::atof(next().c_str());
    else if (name == "--metrics-share") o.metrics_share = std::atof(next().c_str());
    else if (name == "--workers") o.workers = std::atoi(next().c_str());
    else if (name == "--timeout") o.timeout = std::atof(next().c_str());
    else if (name == "--gzip") o.gzip = true;
    else if (name == "--cacert") o.cacert = next();
    else if (name == "--user") { o.user = next(); o.has_user = true; }
    else if (name == "--password") o.password = next();
    else Usage("unknown argument " + a);
  }
  if (o.url.empty()) Usage("--url is required");
  const bool loopback = o.url.starts_with("http://127.0.0.1") || o.url.starts_with("https://127.0.0.1") ||
                        o.url.starts_with("http://localhost") || o.url.starts_with("https://localhost") ||
                        o.url.starts_with("http://[::1]") || o.url.starts_with("https://[::1]");
  if (!loopback) Usage("drives loopback only; got " + o.url);
  if (o.paths.empty()) o.paths = {"/metrics", "/api/v1/anomalies"};
  if (o.rps <= 0 || o.seconds <= 0 || o.workers < 1) Usage("--rps, --seconds and --workers must be positive");
  return o;
}

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The sum of every anomaly_exporter_fit_duration_seconds_count sample in a text-format body.
double FitCount(const std::string& body) {
  static const std::string kName = "\nanomaly_exporter_fit_duration_seconds_count";
  double sum = 0;
  for (size_t pos = body.find(kName); pos != std::string::npos; pos = body.find(kName, pos + 1)) {
    const size_t eol = body.find('\n', pos + 1);
    const size_t space = body.rfind(' ', eol == std::string::npos ? body.size() : eol);
    if (space != std::string::npos && space > pos) sum += std::atof(body.c_str() + space + 1);
  }
  return sum;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  const long k = std::lround(p / 100 * static_cast<double>(sorted.size()) + 0.5) - 1;
  return sorted[static_cast<size_t>(std::clamp<long>(k, 0, static_cast<long>(sorted.size()) - 1))];
}

int Report(const std::string& name, const std::vector<const Row*>& rows) {
  std::vector<double> lat;
  int errors = 0;
  for (const Row* r : rows) {
    if (r->error.empty()) lat.push_back(r->latency_ms);
    else ++errors;
  }
  std::sort(lat.begin(), lat.end());
  std::printf("%-22s requests %6zu  errors %4d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", name.c_str(),
              rows.size(), errors, Percentile(lat, 50), Percentile(lat, 99), lat.empty() ? NAN : lat.back());
  return errors;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = Parse(argc, argv);
  curl_global_init(CURL_GLOBAL_ALL);

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> todo;  // guarded by mu
  bool closed = false;   // guarded by mu
  std::vector<Row> rows; // guarded by mu
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(500);

  auto worker = [&] {
    CURL* curl = curl_easy_init();
    std::string body;
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout * 1000));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (o.gzip) curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
    if (!o.cacert.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, o.cacert.c_str());
    if (o.has_user) {
      curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(curl, CURLOPT_USERNAME, o.user.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, o.password.c_str());
    }
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !todo.empty() || closed; });
        if (todo.empty()) break;
        job = std::move(todo.front());
        todo.pop_front();
      }
      body.clear();
      const std::string url = o.url + job.path;
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      const CURLcode rc = curl_easy_perform(curl);
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      Row row;
      row.path = job.path;
      row.scheduled_s = std::chrono::duration<double>(job.scheduled - start).count();
      row.latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - job.scheduled).count();
      if (rc != CURLE_OK) row.error = curl_easy_strerror(rc);
      else if (status != 200) row.error = "HTTP " + std::to_string(status);
      else if (job.path.starts_with("/metrics")) row.fits = FitCount(body);
      std::lock_guard<std::mutex> lock(mu);
      rows.push_back(std::move(row));
    }
    curl_easy_cleanup(curl);
  };

  std::vector<std::string> others;
  for (const std::string& p : o.paths) {
    if (!p.starts_with("/metrics")) others.push_back(p);
  }
  auto pick = [&](long i) -> std::string {
    if (!o.metrics_share || others.empty()) return o.paths[static_cast<size_t>(i) % o.paths.size()];
    const double share = *o.metrics_share;
    if (std::floor(static_cast<double>(i + 1) * share) > std::floor(static_cast<double>(i) * share)) return "/metrics";
    return others[static_cast<size_t>(i) % others.size()];
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < o.workers; ++i) threads.emplace_back(worker);
  const long total = std::lround(o.rps * o.seconds);
  for (long i = 0; i < total; ++i) {
    const Clock::time_point scheduled =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(static_cast<double>(i) / o.rps));
    std::this_thread::sleep_until(scheduled);
    {
      std::lock_guard<std::mutex> lock(mu);
      todo.push_back(Job{pick(i), scheduled});
    }
    cv.notify_one();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();

  std::string share;
  if (o.metrics_share) share = ", " + std::to_string(*o.metrics_share).substr(0, 4) + " of them to /metrics";
  std::string joined;
  for (const std::string& p : o.paths) joined += (joined.empty() ? "" : ", ") + p;
  std::printf("open loop: %g req/s for %g s over %s%s (%d workers, %s%s%s)\n", o.rps, o.seconds, joined.c_str(),
              share.c_str(), o.workers, o.url.starts_with("https") ? "https" : "http", o.has_user ? ", basic auth" : "",
              o.gzip ? ", gzip" : "");
  std::vector<const Row*> all;
  for (const Row& r : rows) all.push_back(&r);
  for (const std::string& p : o.paths) {
    std::vector<const Row*> some;
    for (const Row* r : all) {
      if (r->path == p) some.push_back(r);
    }
    Report(p, some);
  }
  const int errors = Report("overall", all);
  const long missing = total - static_cast<long>(rows.size());
  if (missing != 0) std::printf("unanswered at the end: %ld (counted as errors)\n", missing);
  std::map<std::string, int> kinds;
  for (const Row& r : rows) {
    if (!r.error.empty()) ++kinds[r.error];
  }
  if (!kinds.empty()) {
    std::printf("errors by kind:");
    for (const auto& [k, n] : kinds) std::printf(" %s: %d;", k.c_str(), n);
    std::printf("\n");
  }

  // Seconds in which the fit count rose (a refit ran) against the others.
  std::vector<std::pair<double, double>> fit_points;
  for (const Row& r : rows) {
    if (r.fits >= 0) fit_points.emplace_back(r.scheduled_s, r.fits);
  }
  std::sort(fit_points.begin(), fit_points.end());
  std::set<long> refit_seconds;
  for (size_t i = 1; i < fit_points.size(); ++i) {
    if (fit_points[i].second > fit_points[i - 1].second) {
      for (long s = static_cast<long>(fit_points[i - 1].first); s <= static_cast<long>(fit_points[i].first); ++s) {
        refit_seconds.insert(s);
      }
    }
  }
  if (!refit_seconds.empty()) {
    std::vector<double> during, other;
    for (const Row& r : rows) {
      if (!r.error.empty()) continue;
      (refit_seconds.count(static_cast<long>(r.scheduled_s)) ? during : other).push_back(r.latency_ms);
    }
    std::sort(during.begin(), during.end());
    std::sort(other.begin(), other.end());
    std::printf("during refits (%zu s): p99 %.2f ms over %zu requests; other seconds: p99 %.2f ms over %zu\n",
                refit_seconds.size(), Percentile(during, 99), during.size(), Percentile(other, 99), other.size());
  } else {
    std::printf("no refit seen during the run (fit count unchanged or not read)\n");
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf("load client CPU: %.1f s\n", static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                                               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  std::printf("RESULT errors=%ld\n", errors + missing);
  curl_global_cleanup();
  return 0;
}

// BM_DecodeQueryRange: DecodeQueryRange over a synthetic query_range answer of the shape Prometheus sends
// (bench/cycle_bench.sh's: one label besides __name__, timestamps in whole seconds 5m apart, values as
// strings with four decimals). Args: series, samples per series. Reports the body's bytes per second.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "anomaly/prom/range_query.h"

namespace {

std::string SyntheticAnswer(int series, int samples) {
  std::string body = R"({"status":"success","data":{"resultType":"matrix","result":[)";
  uint64_t s = 1;
  char buf[128];
  for (int i = 0; i < series; ++i) {
    std::snprintf(buf, sizeof buf, R"({"metric":{"__name__":"bench_load","series":"s%05d"},"values":[)", i);
    body += (i > 0 ? "," : "");
    body += buf;
    for (int k = 0; k < samples; ++k) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;  // an LCG: values of varied length
      double value = 50.0 + static_cast<double>(s >> 40) / 16777216.0 * 100.0;
      std::snprintf(buf, sizeof buf, R"(%s[%lld,"%.4f"])", k > 0 ? "," : "",
                    static_cast<long long>(1700000000 + 300LL * k), value);
      body += buf;
    }
    body += "]}";
  }
  body += "]}}";
  return body;
}

void BM_DecodeQueryRange(benchmark::State& state) {
  const std::string body =
      SyntheticAnswer(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  for (auto _ : state) {
    auto decoded = anomaly::prom::DecodeQueryRange(body, 200);
    if (!decoded) {
      state.SkipWithError(decoded.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(decoded->series.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(body.size()));
  state.counters["body_MiB"] = static_cast<double>(body.size()) / (1024.0 * 1024.0);
}
BENCHMARK(BM_DecodeQueryRange)->Args({1000, 2016})->Args({10, 2016})->Unit(benchmark::kMillisecond);

}  // namespace

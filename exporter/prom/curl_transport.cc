#include "curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>
#include <mutex>
#include <string_view>
#include <utility>

#include "backoff.h"

namespace anomaly::prom {
namespace {

// curl_global_init is not thread-safe on every build of libcurl; run it once,
// before any handle. Never cleaned up: other threads may still use libcurl
// while the process exits.
void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Received {
  std::string body;
  std::optional<Duration> retry_after;
  BodyConsumer* consumer = nullptr;  // set: the body goes there, not to `body`
  CURL* curl = nullptr;              // for the status, read at the body's first byte
  bool begun = false;                // consumer->Begin was called
  std::exception_ptr thrown;         // by the consumer: rethrown once libcurl has returned
};

void BeginConsumer(Received& received) {
  if (received.begun) return;
  received.begun = true;
  long status = 0;
  curl_easy_getinfo(received.curl, CURLINFO_RESPONSE_CODE, &status);
  received.consumer->Begin(status);
}

// Grows the body geometrically, always keeping kBodyPadding spare bytes, so
// that the decoder parses it where it lies instead of copying it.
size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  Received& received = *static_cast<Received*>(user);
  if (received.consumer != nullptr) {
    // No exception may cross libcurl's C frames: it aborts the transfer and is rethrown after it.
    try {
      BeginConsumer(received);
      received.consumer->Write(std::string_view(data, size * count));
    } catch (...) {
      received.thrown = std::current_exception();
      return 0;
    }
    return size * count;
  }
  std::string& body = received.body;
  const size_t want = body.size() + size * count + kBodyPadding;
  if (body.capacity() < want) body.reserve(std::max(want, 2 * body.capacity()));
  body.append(data, size * count);
  return size * count;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) static_cast<Received*>(user)->retry_after = ParseRetryAfter(line.substr(kName.size()));
  }
  return size * count;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

ErrorCode ErrorCodeForCurl(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::kTimeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CRL_BADFILE:
      return ErrorCode::kInvalidConfig;
    default:
      return ErrorCode::kUpstreamUnavailable;
  }
}

}  // namespace

void CurlTransport::HandleDeleter::operator()(void* handle) const {
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

CurlTransport::CurlTransport(CurlOptions options) : options_(std::move(options)) { GlobalInitOnce(); }

CurlTransport::~CurlTransport() = default;

CurlTransport::Handle CurlTransport::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      Handle handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return Handle(curl_easy_init());
}

void CurlTransport::Release(Handle handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_handles) idle_.push_back(std::move(handle));
}

Result<HttpResponse> CurlTransport::Post(const HttpRequest& request) { return Perform(request, nullptr); }

Result<HttpResponse> CurlTransport::PostStreaming(const HttpRequest& request, BodyConsumer& consumer) {
  return Perform(request, &consumer);
}

Result<HttpResponse> CurlTransport::Perform(const HttpRequest& request, BodyConsumer* consumer) {
  Handle handle = Acquire();
  if (!handle) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  CURL* curl = static_cast<CURL*>(handle.get());
  // Reset clears the options of the previous request but keeps the connection
  // cache (keep-alive).
  curl_easy_reset(curl);

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&headers](const std::string& h) {
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  };
  add_header("Content-Type: application/x-www-form-urlencoded");
  add_header("Accept: application/json");
  add_header("Expect:");  // no 100-continue round trip for large forms
  for (const std::string& h : request.headers) add_header(h);

  Received received;
  received.consumer = consumer;
  received.curl = curl;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const long timeout_ms = static_cast<long>(options_.timeout.count());
  const long connect_ms = static_cast<long>(std::min(options_.connect_timeout, options_.timeout).count());

  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL,
                   1L);  // required for timeouts in multi-threaded programs
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.form_body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.form_body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING,
                   options_.compression == Compression::kGzip ? "gzip" : "identity");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &received);
  if (!options_.user_agent.empty()) curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (!options_.tls_ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.tls_ca_file.c_str());
  if (!options_.tls_cert_file.empty())
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options_.tls_cert_file.c_str());
  if (!options_.tls_key_file.empty()) curl_easy_setopt(curl, CURLOPT_SSLKEY, options_.tls_key_file.c_str());
  if (options_.tls_insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (received.thrown) {
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
    Release(std::move(handle));
    std::rethrow_exception(received.thrown);
  }
  if (code == CURLE_OK && consumer != nullptr) BeginConsumer(received);  // an empty body
  // Forget the per-request pointers before the handle goes back to the pool.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  Release(std::move(handle));

  if (code != CURLE_OK) {
    std::string detail = error_buffer[0] != '\0' ? std::string(error_buffer) : curl_easy_strerror(code);
    // The URL carries no secrets (credentials go in headers), so it may appear
    // in messages.
    return MakeError(ErrorCodeForCurl(code), "POST " + request.url + ": " + detail);
  }
  return HttpResponse{status, std::move(received.body), received.retry_after};
}

}  // namespace anomaly::prom

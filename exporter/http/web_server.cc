#include "anomaly/http/web_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string_view>
#include <thread>

#include "anomaly/base/log.h"
#include "exporter/http/basic_auth.h"
#include "exporter/http/router.h"
#include "exporter/http/tls_context.h"

namespace anomaly::http {

struct PreparedWebConfig {
  std::shared_ptr<const Access> access;    // never null
  std::shared_ptr<const TlsMaterial> tls;  // null: plain HTTP
};

namespace {

// Builds what `web` asks for. `current` (may be null) lends its authenticator when the users are the
// same, so a reload that changes nothing else keeps the basic auth cache warm.
Result<std::shared_ptr<const PreparedWebConfig>> Prepare(const config::WebConfig* web,
                                                         const Access* current) {
  auto prepared = std::make_shared<PreparedWebConfig>();
  auto access = std::make_shared<Access>();
  if (web != nullptr) {
    if (!web->basic_auth_users.empty()) {
      if (current != nullptr && current->auth && current->auth->users() == web->basic_auth_users) {
        access->auth = current->auth;
      } else {
        access->auth = std::make_shared<const BasicAuthenticator>(web->basic_auth_users);
      }
    }
    access->headers = web->headers;
    if (web->tls_server_config) {
      Result<std::shared_ptr<const TlsMaterial>> tls = BuildTlsMaterial(*web->tls_server_config);
      if (!tls) return tl::unexpected(tls.error());
      prepared->tls = std::move(*tls);
    }
  }
  prepared->access = std::move(access);
  return std::shared_ptr<const PreparedWebConfig>(std::move(prepared));
}

}  // namespace

Status CheckWebConfig(const config::WebConfig& web) {
  Result<std::shared_ptr<const PreparedWebConfig>> prepared = Prepare(&web, nullptr);
  if (!prepared) return tl::unexpected(prepared.error());
  return {};
}

namespace {

constexpr std::string_view kReservedPaths[] = {"/",        "/-/healthy",        "/-/ready",   "/-/reload",
                                               "/api/v1/anomalies", kScorePath, "/series", kEpisodesPath};

// "HOST:PORT" / "[V6]:PORT" / ":PORT" -> civetweb's listening_ports item.
Result<std::string> ToCivetwebPort(const std::string& address) {
  auto bad = [&address](std::string_view why) {
    return MakeError(ErrorCode::kInvalidConfig,
                     "web.listen-address \"" + address + "\": " + std::string(why));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return bad("want HOST:PORT, [IPV6]:PORT or :PORT");
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::atoi(port.c_str()) > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  if (host.empty()) return port;  // civetweb: a bare port listens on every IPv4 interface
  if (host == "localhost") return "127.0.0.1:" + port;
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return bad("unterminated IPv6 address");
    if (host.find_first_not_of("[]0123456789abcdefABCDEF:.") != std::string::npos) return bad("bad IPv6 address");
    return address;
  }
  if (host.find_first_not_of("0123456789.") != std::string::npos) {
    return bad("host must be an IPv4 address, [IPv6 address] or localhost");
  }
  return address;
}

// The address a local client reaches a listener on: "0.0.0.0"/"" -> 127.0.0.1, "[::]" -> ::1.
std::string LoopbackFor(const std::string& civet_port) {
  const size_t colon = civet_port.rfind(':');
  std::string host = colon == std::string::npos ? "" : civet_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

// Opens and at once closes a TCP connection to host:port, ignoring every failure. The close means a
// civetweb worker that picks the connection up reads EOF immediately instead of waiting for a request.
void Poke(const std::string& host, int port) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *v6;
  } else {
    return;
  }
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
  close(fd);
}

std::string Header(const mg_connection* conn, const char* name) {
  const char* value = mg_get_header(conn, name);
  return value != nullptr ? value : "";
}

// The request body, at most `limit` bytes (mg_read also undoes chunked encoding and answers
// "Expect: 100-continue"). kInvalidInput when there is more, kInternal when the connection fails.
Result<std::string> ReadBody(mg_connection* conn, size_t limit) {
  std::string body;
  char buffer[16384];
  for (;;) {
    const int n = mg_read(conn, buffer, sizeof buffer);
    if (n < 0) return MakeError(ErrorCode::kInternal, "the connection failed while reading the body");
    if (n == 0) return body;
    if (body.size() + static_cast<size_t>(n) > limit) {
      return MakeError(ErrorCode::kInvalidInput, "the body is longer than " + std::to_string(limit) + " bytes");
    }
    body.append(buffer, static_cast<size_t>(n));
  }
}

// Debian's civetweb runs its workers on 100 KiB stacks (built with USE_STACK_SIZE=102400; there is no
// run-time option). A scrape of the telemetry path only copies a prerendered text and fits in that, but
// other endpoints do real work there: the series page fits the series' window (a robust STL), a reload
// parses YAML, the APIs build JSON. Under AddressSanitizer the series page overflowed it. Those requests
// therefore run on a thread of their own with the process's default stack (8 MiB), while the civetweb
// worker waits: they are rare (a person, a probe every few seconds), and a thread costs tens of
// microseconds. A thread that cannot be started throws, which BeginRequest answers with 500.
Response ServeOnOwnStack(const Router& router, const Request& request) {
  Response response;
  std::exception_ptr failure;
  std::thread worker([&] {
    try {
      response = router.Serve(request);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  worker.join();
  if (failure) std::rethrow_exception(failure);
  return response;
}

void Send(mg_connection* conn, const Request& request, const Response& response) {
  mg_response_header_start(conn, response.status);
  mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
  mg_response_header_add(conn, "Content-Length", std::to_string(response.body.size()).c_str(), -1);
  mg_response_header_add(conn, "Cache-Control", "no-store", -1);
  for (const auto& [name, value] : response.headers) {
    mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
  }
  mg_response_header_send(conn);
  if (request.method != "HEAD") mg_write(conn, response.body.data(), response.body.size());
}

}  // namespace

struct WebServer::Impl {
  Impl(WebOptions options, std::shared_ptr<prometheus::Collectable> self_metrics,
       std::shared_ptr<exposition::AnomalyCollector> anomalies, Callbacks callbacks)
      : telemetry_path(options.telemetry_path),
        router(std::move(options), std::move(self_metrics), std::move(anomalies), std::move(callbacks)) {}

  // mg_stop joins civetweb's threads, so no handler runs after it. Its master thread notices the stop
  // only when its poll() on the listening sockets returns, which takes up to 2 s when idle; connecting
  // to each listener while it stops cuts shutdown to milliseconds.
  ~Impl() {
    if (context == nullptr) return;
    std::vector<std::pair<std::string, int>> listeners;
    mg_server_port ports[32] = {};
    const int n = mg_get_server_ports(context, 32, ports);
    for (int i = 0; i < n && i < static_cast<int>(hosts.size()); ++i) listeners.emplace_back(hosts[i], ports[i].port);
    std::atomic<bool> stopped = false;
    std::thread waker([&stopped, &listeners] {
      while (!stopped.load()) {
        for (const auto& [host, port] : listeners) Poke(host, port);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    mg_stop(context);
    stopped = true;
    waker.join();
  }

  // civetweb begin_request: every request ends here, and is answered here (non-zero return), so
  // civetweb itself never serves files or directory listings.
  static int BeginRequest(mg_connection* conn) noexcept {
    try {
      const mg_request_info* info = mg_get_request_info(conn);
      const Impl* self = static_cast<const Impl*>(info->user_data);
      Request request;
      request.method = info->request_method != nullptr ? info->request_method : "";
      request.path = info->local_uri != nullptr ? info->local_uri : "";
      request.query = info->query_string != nullptr ? info->query_string : "";
      request.accept_encoding = Header(conn, "Accept-Encoding");
      request.authorization = Header(conn, "Authorization");
      request.content_type = Header(conn, "Content-Type");
      request.accept = Header(conn, "Accept");
      request.origin = Header(conn, "Origin");
      request.referer = Header(conn, "Referer");
      request.host = Header(conn, "Host");
      if (info->content_length >= 0) request.content_length = static_cast<uint64_t>(info->content_length);
      request.read_body = [conn](size_t limit) { return ReadBody(conn, limit); };
      const Response response =
          request.path == self->telemetry_path ? self->router.Serve(request) : ServeOnOwnStack(self->router, request);
      Send(conn, request, response);
      return response.status;
    } catch (...) {
      // Only allocation can fail here; answer without allocating.
      mg_send_http_error(conn, 500, "%s", "Internal Server Error\n");
      return 500;
    }
  }

  // civetweb's init_ssl: the SSL_CTX it made for the HTTPS listeners, configured by TlsServer.
  static int InitSsl(void* ssl_ctx, void* user_data) noexcept {
    auto* self = static_cast<Impl*>(user_data);
    return self->tls ? self->tls->Install(ssl_ctx) : -1;
  }

  static int LogMessage(const mg_connection* /*conn*/, const char* message) noexcept {
    try {
      log::Warn("web server", {{"err", message != nullptr ? message : ""}});
    } catch (...) {
    }
    return 1;  // logged by us; civetweb prints nothing
  }

  const std::string telemetry_path;  // served on civetweb's worker; every other path on its own thread
  Router router;                   // thread-safe (router.h)
  std::unique_ptr<TlsServer> tls;  // set once by Create when the web config has TLS; null: plain HTTP
  std::vector<std::string> hosts;  // loopback-reachable host of each listener, in order; set by Create
  mg_context* context = nullptr;   // set once by Create; civetweb owns its threads
};

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WebServer::~WebServer() = default;

Result<std::unique_ptr<WebServer>> WebServer::Create(WebOptions options,
                                                    std::shared_ptr<prometheus::Collectable> self_metrics,
                                                    std::shared_ptr<exposition::AnomalyCollector> anomalies,
                                                    Callbacks callbacks) {
  if (options.listen_addresses.empty()) {
    return MakeError(ErrorCode::kInvalidConfig, "web.listen-address: at least one address is required");
  }
  std::string ports;
  std::vector<std::string> hosts;
  for (const std::string& address : options.listen_addresses) {
    Result<std::string> port = ToCivetwebPort(address);
    if (!port) return tl::unexpected(port.error());
    if (!ports.empty()) ports += ',';
    ports += *port;
    hosts.push_back(LoopbackFor(*port));
  }
  const std::string& path = options.telemetry_path;
  if (path.empty() || path.front() != '/') {
    return MakeError(ErrorCode::kInvalidConfig, "web.telemetry-path \"" + path + "\": must start with /");
  }
  for (std::string_view reserved : kReservedPaths) {
    if (path == reserved) {
      return MakeError(ErrorCode::kInvalidConfig, "web.telemetry-path \"" + path + "\": is another endpoint");
    }
  }
  if (options.max_requests < 0) {
    return MakeError(ErrorCode::kInvalidConfig, "web.max-requests: must be 0 or more");
  }
  if (options.score.concurrency < 1) {
    return MakeError(ErrorCode::kInvalidConfig, "web.score-concurrency: must be 1 or more");
  }
  if (options.score.max_body_bytes < 1) {
    return MakeError(ErrorCode::kInvalidConfig, "web.score-max-body-bytes: must be 1 or more");
  }
  if (options.score.timeout <= std::chrono::milliseconds::zero()) {
    return MakeError(ErrorCode::kInvalidConfig, "web.score-timeout: must be more than 0");
  }
  const std::string threads = std::to_string(options.max_requests == 0 ? 50 : options.max_requests);

  Result<std::shared_ptr<const PreparedWebConfig>> prepared = Prepare(options.web_config.get(), nullptr);
  if (!prepared) return tl::unexpected(prepared.error());
  if ((*prepared)->tls) {
    if (Status shims = LoadTlsShims(options.tls_shim_dirs); !shims) return tl::unexpected(shims.error());
    // civetweb serves TLS on a listening port written with an "s" suffix.
    std::string tls_ports;
    for (size_t start = 0; start <= ports.size();) {
      size_t comma = ports.find(',', start);
      if (comma == std::string::npos) comma = ports.size();
      tls_ports += (tls_ports.empty() ? "" : ",") + ports.substr(start, comma - start) + "s";
      start = comma + 1;
    }
    ports = std::move(tls_ports);
  }

  auto impl = std::make_unique<Impl>(std::move(options), std::move(self_metrics), std::move(anomalies),
                                     std::move(callbacks));
  impl->hosts = std::move(hosts);
  impl->router.SetAccess((*prepared)->access);
  if ((*prepared)->tls) impl->tls = std::make_unique<TlsServer>((*prepared)->tls);
  const char* civet_options[] = {
      "listening_ports", ports.c_str(),
      "num_threads", threads.c_str(),
      // A scrape answers from memory; 30s covers a slow client and a reload's config parse.
      "request_timeout_ms", "30000",
      // Keep-alive spares a frequent client (a dashboard, a load balancer's checks, a scraper with a short
      // interval) a TCP and, with TLS, a full handshake per request. civetweb holds one worker per open
      // connection, so idle connections are closed after 5 s to keep workers for new ones.
      "enable_keep_alive", "yes",
      "keep_alive_timeout_ms", "5000",
      nullptr,
  };
  mg_callbacks civet_callbacks{};
  civet_callbacks.begin_request = &Impl::BeginRequest;
  civet_callbacks.log_message = &Impl::LogMessage;
  // Only with TLS on: civetweb loads OpenSSL when an init_ssl callback is set.
  if (impl->tls) civet_callbacks.init_ssl = &Impl::InitSsl;
  mg_init_data init{};
  init.callbacks = &civet_callbacks;
  init.user_data = impl.get();
  init.configuration_options = civet_options;
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text;
  error.text_buffer_size = sizeof error_text;
  impl->context = mg_start2(&init, &error);
  if (impl->context == nullptr) {
    return MakeError(ErrorCode::kInternal,
                     "starting web server on " + ports + ": " + (error_text[0] != '\0' ? error_text : "unknown error"));
  }
  return std::unique_ptr<WebServer>(new WebServer(std::move(impl)));
}

Result<std::shared_ptr<const PreparedWebConfig>> WebServer::PrepareWebConfig(
    std::shared_ptr<const config::WebConfig> web) const {
  const bool wants_tls = web && web->tls_server_config.has_value();
  if (wants_tls != (impl_->tls != nullptr)) {
    return MakeError(ErrorCode::kInvalidConfig,
                     std::string("tls_server_config: turning TLS ") + (wants_tls ? "on" : "off") +
                         " needs a restart (the listeners are HTTPS or not from the start)");
  }
  const std::shared_ptr<const Access> current = impl_->router.access();
  return Prepare(web.get(), current.get());
}

void WebServer::Prerender() const { impl_->router.Prerender(); }

void WebServer::InstallWebConfig(std::shared_ptr<const PreparedWebConfig> prepared) {
  if (!prepared) return;
  if (impl_->tls && prepared->tls) impl_->tls->Set(prepared->tls);
  impl_->router.SetAccess(prepared->access);
}

std::vector<int> WebServer::GetListeningPorts() const {
  mg_server_port ports[32] = {};
  const int n = mg_get_server_ports(impl_->context, 32, ports);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(ports[i].port);
  return out;
}

}  // namespace anomaly::http

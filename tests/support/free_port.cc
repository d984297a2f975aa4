#include "support/free_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace anomaly::testing {
namespace {

int BindEphemeral() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace

int FreePort() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    int port = BindEphemeral();
    if (port < 0) {
      std::fprintf(stderr, "FreePort: cannot bind 127.0.0.1:0: %s\n", std::strerror(errno));
      std::abort();
    }
    if (port != 9090 && port != 9093 && port != 9094 && port != 9100) return port;
  }
  std::fprintf(stderr, "FreePort: only reserved ports came back\n");
  std::abort();
}

}  // namespace anomaly::testing

// SPDX-License-Identifier: MPL-2.0
#include "tests/e2e/support/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace bondcast::e2e {

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(poll);
  }
}

std::uint16_t freeUdpPort() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw std::runtime_error(std::string("creating a UDP socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("binding UDP 127.0.0.1:0: " + err);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::vector<std::uint8_t> readBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::uintmax_t fileSize(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

std::vector<nlohmann::json> jsonLines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (in.eof())
      break;  // no newline yet: still being written
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded())
      out.push_back(std::move(j));
  }
  return out;
}

nlohmann::json finalLine(const std::filesystem::path& path) {
  auto lines = jsonLines(path);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->value("final", false))
      return *it;
  }
  return nullptr;
}

std::string describeDifference(const std::vector<std::uint8_t>& expected,
                               const std::vector<std::uint8_t>& actual) {
  if (expected == actual)
    return "";
  auto [e, a] = std::mismatch(expected.begin(), expected.end(), actual.begin(), actual.end());
  auto offset = static_cast<std::size_t>(e - expected.begin());
  return "expected " + std::to_string(expected.size()) + " bytes, got " +
         std::to_string(actual.size()) + "; first difference at byte " + std::to_string(offset) +
         " (TS packet " + std::to_string(offset / 188) + ")";
}

}  // namespace bondcast::e2e

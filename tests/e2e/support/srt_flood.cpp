// SPDX-License-Identifier: MPL-2.0
// bondcast_srt_flood: connection attempts at an SRT listener on 127.0.0.1, as fast as a
// few threads of blocking libsrt callers make them, each a new SRT socket, for
// tests/e2e/flood_test.cpp. Each thread's sockets share one source port: a socket with a
// port of its own makes libsrt start and later join two threads of its own, and its
// garbage collector, joining hundreds of them at once, stalled every caller for seconds
// (e2e_abuse_test sends from thousands of source ports). A process of its own so that libsrt's
// state after thousands of refused connections (and libsrt 1.5.1's shutdown, which can hang after a
// refused connection: issue 16) stays out of the test; it ends with _exit.
//
//   bondcast_srt_flood PORT SEED THREADS RATE [COUNT STREAMID PASSPHRASE]...
//
// RATE: attempts per second in all, attempt i starting at i / RATE s (0: as fast as the
// threads go).
// Each COUNT STREAMID PASSPHRASE makes COUNT attempts with that stream id and passphrase
// ('-': none; '{n}' in STREAMID becomes a number drawn from the generator seeded with
// SEED, so that every attempt names another stream). The kinds are interleaved. Prints to stderr
// one line per kind, "kind K: attempts=N connected=C reasons=R:N,...", and last
// "flood: attempts=N connected=C seconds=S". Exit 0 when every attempt ended (refused or
// connected), 2 on bad arguments.
#include <srt/srt.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace {

struct Kind {
  int count = 0;
  std::string stream_id;
  std::string passphrase;
};

struct Attempt {
  std::size_t kind;
  std::string stream_id;
};

struct Outcome {
  int connected = 0;
  std::map<int, int> reasons;  // SRT_REJ_* / SRT_REJX_* -> attempts refused with it
};

// One blocking caller from 127.0.0.1:`local_port` (0: any, and `local_port` becomes the
// port taken): connects, and closes at once whatever the answer. Returns the reject
// reason, or -1 when it connected.
int attempt(std::uint16_t port, const std::string& stream_id, const std::string& passphrase,
            std::uint16_t& local_port) {
  SRTSOCKET s = srt_create_socket();
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_port = htons(local_port);
  from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (srt_bind(s, reinterpret_cast<sockaddr*>(&from), sizeof from) == SRT_ERROR) {
    srt_close(s);
    return SRT_REJ_SYSTEM;
  }
  if (local_port == 0) {
    int len = sizeof from;
    srt_getsockname(s, reinterpret_cast<sockaddr*>(&from), &len);
    local_port = ntohs(from.sin_port);
  }
  const int conntimeo_ms = 3000;
  srt_setsockflag(s, SRTO_CONNTIMEO, &conntimeo_ms, sizeof conntimeo_ms);
  if (!stream_id.empty()) {
    srt_setsockflag(s, SRTO_STREAMID, stream_id.data(), static_cast<int>(stream_id.size()));
  }
  if (!passphrase.empty()) {
    srt_setsockflag(s, SRTO_PASSPHRASE, passphrase.data(), static_cast<int>(passphrase.size()));
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int result = srt_connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to);
  const int reason = result == SRT_ERROR ? srt_getrejectreason(s) : -1;
  srt_close(s);
  return reason;
}

bool parseKind(const char* count, const char* stream_id, const char* passphrase, Kind& kind) {
  try {
    kind.count = std::stoi(count);
  } catch (...) {
    return false;
  }
  kind.stream_id = std::string(stream_id) == "-" ? "" : stream_id;
  kind.passphrase = std::string(passphrase) == "-" ? "" : passphrase;
  return kind.count > 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8 || (argc - 5) % 3 != 0) {
    std::fprintf(stderr,
                 "usage: bondcast_srt_flood PORT SEED THREADS RATE "
                 "[COUNT STREAMID PASSPHRASE]...\n");
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const auto seed = static_cast<std::uint32_t>(std::stoul(argv[2]));
  const int threads = std::stoi(argv[3]);
  const double rate = std::stod(argv[4]);
  std::vector<Kind> kinds;
  for (int i = 5; i + 2 < argc; i += 3) {
    Kind k;
    if (!parseKind(argv[i], argv[i + 1], argv[i + 2], k)) {
      std::fprintf(stderr, "bondcast_srt_flood: not a count: %s\n", argv[i]);
      return 2;
    }
    kinds.push_back(k);
  }

  // Interleaved: attempt i of every kind before attempt i + 1 of any.
  std::mt19937 rng(seed);
  std::vector<Attempt> attempts;
  std::vector<int> left;
  for (const auto& k : kinds) {
    left.push_back(k.count);
  }
  for (bool more = true; more;) {
    more = false;
    for (std::size_t k = 0; k < kinds.size(); ++k) {
      if (left[k]-- <= 0) {
        continue;
      }
      more = true;
      std::string id = kinds[k].stream_id;
      if (auto at = id.find("{n}"); at != std::string::npos) {
        id.replace(at, 3, std::to_string(rng() % 1'000'000));
      }
      attempts.push_back({k, id});
    }
  }

  srt_startup();
  srt_setloglevel(LOG_CRIT);  // thousands of refusals: the counts below say it all
  std::vector<Outcome> outcomes(kinds.size());
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      std::uint16_t local_port = 0;
      for (std::size_t i = next++; i < attempts.size(); i = next++) {
        if (rate > 0) {
          std::this_thread::sleep_until(
              start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                          std::chrono::duration<double>(static_cast<double>(i) / rate)));
        }
        const Attempt& a = attempts[i];
        const int reason = attempt(port, a.stream_id, kinds[a.kind].passphrase, local_port);
        std::lock_guard lock(mu);
        if (reason < 0) {
          ++outcomes[a.kind].connected;
        } else {
          ++outcomes[a.kind].reasons[reason];
        }
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int connected = 0;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    std::string reasons;
    for (const auto& [reason, n] : outcomes[k].reasons) {
      reasons += (reasons.empty() ? "" : ",") + std::to_string(reason) + ":" + std::to_string(n);
    }
    std::fprintf(stderr, "kind %zu: attempts=%d connected=%d reasons=%s\n", k, kinds[k].count,
                 outcomes[k].connected, reasons.c_str());
    connected += outcomes[k].connected;
  }
  std::fprintf(stderr, "flood: attempts=%zu connected=%d seconds=%.2f\n", attempts.size(),
               connected, seconds);
  std::fflush(stderr);
  _exit(0);  // no srt_cleanup(): see the top
}

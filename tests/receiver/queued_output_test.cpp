// SPDX-License-Identifier: MPL-2.0
// QueuedOutput (receiver/queued_output.h): writes never block whatever the wrapped output
// does, the queue is bounded and what it drops is counted, the first error ends the
// output, and closing gives up on an output that takes nothing. The last tests use a
// real FIFO through openOutput, as a user's `--output` can name one.
#include "receiver/queued_output.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

namespace bondcast::receiver {
namespace {

using namespace std::chrono_literals;

// An output that holds every write until open() (or interrupt()), and records what it got.
class GatedOutput : public Output {
 public:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    bool interrupted = false;
    int fail_at = -1;  // the write (0-based) that fails
    std::vector<std::vector<std::uint8_t>> got;
  };
  explicit GatedOutput(std::shared_ptr<Shared> s) : s_(std::move(s)) {}
  Status write(std::span<const std::uint8_t> p) override {
    std::unique_lock lock(s_->mu);
    s_->cv.wait(lock, [&] { return s_->open || s_->interrupted; });
    if (s_->interrupted)
      return Error{"interrupted"};
    if (static_cast<int>(s_->got.size()) == s_->fail_at)
      return Error{"disk full"};
    s_->got.emplace_back(p.begin(), p.end());
    return okStatus();
  }
  std::string describe() const override { return "gated"; }
  void interrupt() override {
    std::lock_guard lock(s_->mu);
    s_->interrupted = true;
    s_->cv.notify_all();
  }

 private:
  std::shared_ptr<Shared> s_;
};

void openGate(GatedOutput::Shared& s) {
  std::lock_guard lock(s.mu);
  s.open = true;
  s.cv.notify_all();
}

std::vector<std::uint8_t> payload(int i, std::size_t size = 100) {
  return std::vector<std::uint8_t>(size, static_cast<std::uint8_t>(i));
}

// Polls `done` every millisecond for at most `limit`.
template <class F>
bool waitFor(F done, std::chrono::milliseconds limit = 10s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end)
      return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(QueuedOutput, WritesReturnWhileTheOutputBlocksAndEverythingArrivesInOrder) {
  auto shared = std::make_shared<GatedOutput::Shared>();
  {
    QueuedOutput out(std::make_unique<GatedOutput>(shared), {});
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(out.write(payload(i)).ok());  // the gate is shut: a blocking write hangs here
    EXPECT_EQ(out.counters().written_payloads, 0u);
    openGate(*shared);
  }  // closing writes what is queued
  ASSERT_EQ(shared->got.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(shared->got[static_cast<std::size_t>(i)], payload(i)) << "payload " << i;
}

TEST(QueuedOutput, DropsAndCountsWhatDoesNotFitAndTakesDataAgainOnceDrained) {
  auto shared = std::make_shared<GatedOutput::Shared>();
  QueuedOutput out(std::make_unique<GatedOutput>(shared), {.max_bytes = 1000});
  for (int i = 0; i < 25; ++i)
    ASSERT_TRUE(out.write(payload(i)).ok());
  auto c = out.counters();
  EXPECT_EQ(c.queued_bytes, 1000u);
  EXPECT_EQ(c.dropped_payloads, 15u);
  EXPECT_EQ(c.dropped_bytes, 1500u);
  openGate(*shared);
  ASSERT_TRUE(waitFor([&] { return out.counters().written_payloads == 10; }));
  EXPECT_EQ(out.counters().queued_bytes, 0u);
  ASSERT_TRUE(out.write(payload(99)).ok());
  ASSERT_TRUE(waitFor([&] { return out.counters().written_payloads == 11; }));
  std::lock_guard lock(shared->mu);
  ASSERT_EQ(shared->got.size(), 11u);
  EXPECT_EQ(shared->got[9], payload(9));
  EXPECT_EQ(shared->got[10], payload(99));
}

TEST(QueuedOutput, TheFirstErrorEndsTheOutputAndLaterWritesReportIt) {
  auto shared = std::make_shared<GatedOutput::Shared>();
  shared->fail_at = 3;
  QueuedOutput out(std::make_unique<GatedOutput>(shared), {});
  // All five queued before the writer starts: with the gate open it could reach the error
  // before the fifth was handed over (it did under ThreadSanitizer's slowdown).
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(out.write(payload(i)).ok());
  openGate(*shared);
  ASSERT_TRUE(waitFor([&] { return out.counters().failed; }));
  auto st = out.write(payload(9));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "disk full");
  EXPECT_EQ(out.counters().written_payloads, 3u);
  EXPECT_EQ(out.counters().dropped_payloads, 2u);  // the one after the error, and payload 9
}

TEST(QueuedOutput, ClosingGivesUpOnAnOutputThatTakesNothing) {
  auto shared = std::make_shared<GatedOutput::Shared>();
  const auto start = std::chrono::steady_clock::now();
  {
    QueuedOutput out(std::make_unique<GatedOutput>(shared), {.close_grace = 200ms});
    for (int i = 0; i < 10; ++i)
      ASSERT_TRUE(out.write(payload(i)).ok());
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(shared->interrupted);
  EXPECT_TRUE(shared->got.empty());
  EXPECT_LT(took, 5s);
}

// An output that never blocks is written on the caller's thread: done when write()
// returns, in order, errors reported by that very write.
TEST(QueuedOutput, AnOutputThatNeverBlocksIsWrittenAtOnce) {
  struct Direct : Output {
    std::vector<std::vector<std::uint8_t>>* got;
    Status write(std::span<const std::uint8_t> p) override {
      if (got->size() == 2)
        return Error{"gone"};
      got->emplace_back(p.begin(), p.end());
      return okStatus();
    }
    std::string describe() const override { return "direct"; }
    bool mayBlock() const override { return false; }
  };
  std::vector<std::vector<std::uint8_t>> got;
  auto inner = std::make_unique<Direct>();
  inner->got = &got;
  QueuedOutput out(std::move(inner), {});
  ASSERT_TRUE(out.write(payload(1)).ok());
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(out.write(payload(2)).ok());
  EXPECT_EQ(got[1], payload(2));
  EXPECT_FALSE(out.write(payload(3)).ok());
  EXPECT_TRUE(out.counters().failed);
  EXPECT_EQ(out.counters().written_payloads, 2u);
}

class FifoOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bondcast-fifo-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    fifo_ = dir_ / "out.ts";
    ASSERT_EQ(::mkfifo(fifo_.c_str(), 0600), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_, fifo_;
};

TEST_F(FifoOutput, AFifoWithoutReaderNeitherBlocksOpeningNorWritingNorClosing) {
  auto spec = parseOutputSpec(fifo_.string());
  ASSERT_TRUE(spec.ok());
  auto inner = openOutput(*spec, "");  // opening a FIFO for writing blocks until a reader comes
  ASSERT_TRUE(inner.ok()) << inner.error().message;
  const auto start = std::chrono::steady_clock::now();
  {
    QueuedOutput out(std::move(*inner), {.max_bytes = 64 * 1024, .close_grace = 200ms});
    for (int i = 0; i < 200; ++i)
      ASSERT_TRUE(out.write(payload(i, 1316)).ok());
    EXPECT_GT(out.counters().dropped_payloads, 0u);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(FifoOutput, AReaderThatComesLaterGetsEveryByteInOrder) {
  auto spec = parseOutputSpec(fifo_.string());
  ASSERT_TRUE(spec.ok());
  auto inner = openOutput(*spec, "");
  ASSERT_TRUE(inner.ok()) << inner.error().message;
  std::vector<std::uint8_t> sent;
  std::vector<std::uint8_t> got;
  std::thread reader;
  {
    QueuedOutput out(std::move(*inner), {});
    for (int i = 0; i < 500; ++i) {  // 658 kB: more than a pipe holds (64 kB)
      auto p = payload(i, 1316);
      sent.insert(sent.end(), p.begin(), p.end());
      ASSERT_TRUE(out.write(p).ok());
    }
    reader = std::thread([&] {
      const int fd = ::open(fifo_.c_str(), O_RDONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      std::uint8_t buf[4096];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        got.insert(got.end(), buf, buf + n);
      ::close(fd);
    });
  }  // closing drains the queue into the reader, then closes: the reader sees the end
  reader.join();
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent);
}

}  // namespace
}  // namespace bondcast::receiver

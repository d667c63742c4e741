// SPDX-License-Identifier: MPL-2.0
// The engine-side ends of the elements' queues: an Input the sender reads what
// bondcastsink renders from, an Output the receiver writes what bondcastsrc pushes to.
#pragma once

#include <memory>
#include <string>

#include "plugins/gstreamer/byte_queue.h"
#include "receiver/output.h"
#include "sender/input.h"

namespace bondcast::gst {

class QueueInput : public sender::Input {
 public:
  explicit QueueInput(std::shared_ptr<ByteQueue> q) : q_(std::move(q)) {}
  Result<sender::InputChunk> read() override {
    sender::InputChunk chunk;
    if (q_->pop(chunk.bytes, 64 * 1024, false) != ByteQueue::Pop::kData)
      chunk.end = true;
    return chunk;
  }
  void stop() override { q_->close(); }
  std::string describe() const override { return "bondcastsink buffers"; }

 private:
  std::shared_ptr<ByteQueue> q_;
};

class QueueOutput : public receiver::Output {
 public:
  QueueOutput(std::shared_ptr<ByteQueue> q, std::string stream)
      : q_(std::move(q)), stream_(std::move(stream)) {}
  Status write(std::span<const std::uint8_t> payload) override {
    (void)q_->push({payload.begin(), payload.end()});  // never blocks: drops the oldest
    return okStatus();
  }
  std::string describe() const override { return "bondcastsrc (stream '" + stream_ + "')"; }
  bool mayBlock() const override { return false; }  // the queue drops its oldest bytes

 private:
  std::shared_ptr<ByteQueue> q_;
  std::string stream_;
};

}  // namespace bondcast::gst

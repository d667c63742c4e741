// SPDX-License-Identifier: MPL-2.0
// Acceptance 5 of the Foundation issue: every bad input to `bondcast send` and
// `bondcast recv` ends the program with one clear line naming the problem, exit
// code 2 for usage errors and 1 for runtime failures; a refused sender does not
// disturb a stream the receiver is already writing.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/e2e/support/bondcast_test.h"
#include "tests/e2e/support/media.h"

namespace bondcast::e2e {
namespace {

const std::string kPassphrase = "correct horse battery";

class BadInput : public BondcastTest {
 protected:
  // Runs bondcast with `args` and expects exit `code` and a last stderr line
  // "bondcast COMMAND: ..." that contains every needle. Usage errors (2) print
  // exactly that one line.
  void expectFailure(const std::vector<std::string>& args, int code,
                     const std::vector<std::string>& needles,
                     const std::vector<std::string>& absent = {}) {
    Finished f = runToEnd(bondcastArgv(args), path("err.log"), 30s);
    SCOPED_TRACE("bondcast " + join(args));
    EXPECT_EQ(f.exit_code, code) << f.err;
    auto lines = f.lines();
    ASSERT_FALSE(lines.empty()) << "nothing on stderr";
    if (code == 2) {
      EXPECT_EQ(lines.size(), 1u) << f.err;
    }
    const std::string& last = lines.back();
    EXPECT_EQ(last.rfind("bondcast " + args[0] + ": ", 0), 0u) << last;
    for (const auto& needle : needles)
      EXPECT_NE(last.find(needle), std::string::npos) << "'" << needle << "' not in: " << last;
    for (const auto& a : absent)
      EXPECT_EQ(f.err.find(a), std::string::npos) << "'" << a << "' in: " << f.err;
  }

  static std::string join(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args)
      out += (out.empty() ? "" : " ") + a;
    return out;
  }

  // A send command line that is valid apart from what the test changes.
  std::vector<std::string> sendArgs(const std::string& mode, const std::string& input,
                                    const std::string& link) {
    return {"send", "-q", "--mode", mode, "--input", input, "--link", link};
  }
};

TEST_F(BadInput, UnknownModeIsAUsageErrorListingTheKnownModes) {
  expectFailure(sendArgs("roundrobin", "testsrc", srtLink(9)), 2,
                {"unknown mode 'roundrobin'", "broadcast", "backup"});
}

TEST_F(BadInput, MalformedLinkUriIsAUsageErrorNamingTheUri) {
  expectFailure(sendArgs("broadcast", "testsrc", "srt:/127.0.0.1:9000"), 2,
                {"srt:/127.0.0.1:9000"});
  expectFailure(sendArgs("broadcast", "testsrc", "srt://127.0.0.1"), 2, {"srt://127.0.0.1"});
  expectFailure(sendArgs("broadcast", "testsrc", "srt://127.0.0.1:notaport"), 2,
                {"srt://127.0.0.1:notaport"});
  expectFailure(sendArgs("broadcast", "testsrc", "udp://127.0.0.1:9000"), 2,
                {"udp://127.0.0.1:9000", "srt://"});
  expectFailure(sendArgs("backup", "testsrc", srtLink(9000, "weight=heavy")), 2,
                {"weight 'heavy'"});
}

TEST_F(BadInput, UnknownLinkParameterIsAUsageErrorNamingIt) {
  expectFailure(sendArgs("broadcast", "testsrc", srtLink(9000, "wieght=3")), 2,
                {"unknown parameter 'wieght'", srtLink(9000, "wieght=3")});
}

TEST_F(BadInput, AdaptiveModeOptionsAreCheckedNamingTheProblem) {
  auto args = sendArgs("adaptive", "testsrc", srtLink(9));
  args.insert(args.end(), {"--policy", "fastest"});
  expectFailure(args, 2, {"unknown policy 'fastest'", "latency-aware", "srtla"});
  args = sendArgs("adaptive", "testsrc", srtLink(9));
  args.insert(args.end(), {"--redundancy-budget", "150"});
  Finished range = runToEnd(bondcastArgv(args), path("err.log"), 30s);
  EXPECT_EQ(range.exit_code, 2) << range.err;
  EXPECT_NE(range.err.find("--redundancy-budget: Value 150 not in range"), std::string::npos)
      << range.err;
  expectFailure(sendArgs("broadcast", "testsrc", srtLink(9, "dev=lo")), 2,
                {"dev= works in adaptive and srtla modes only"});
  expectFailure(sendArgs("adaptive", "testsrc", srtLink(9, "dev=wwan9")), 1,
                {"no network interface 'wwan9'"});
}

TEST_F(BadInput, SrtlaModeTakesSrtlaLinksOnlyAndNoOptionItCannotApply) {
  expectFailure(sendArgs("srtla", "testsrc", srtLink(9)), 2,
                {"srtla mode sends to an SRTLA receiver", "srtla://HOST:PORT"});
  expectFailure(sendArgs("adaptive", "testsrc", "srtla://127.0.0.1:9"), 2,
                {"srtla:// links need --mode srtla"});
  expectFailure(sendArgs("srtla", "testsrc", "srtla://127.0.0.1:9?latency=300"), 2,
                {"srtla mode has one SRT connection"});
  expectFailure(sendArgs("srtla", "testsrc", "srtla://127.0.0.1:9?weight=2"), 2,
                {"weight= applies to backup mode only"});
  expectFailure(sendArgs("srtla", "testsrc", "srtla://127.0.0.1:9?dev=wwan9"), 1,
                {"no network interface 'wwan9'"});
  auto args = sendArgs("srtla", "testsrc", "srtla://127.0.0.1:9");
  args.insert(args.end(), {"--policy", "fastest"});
  expectFailure(args, 2, {"unknown policy 'fastest'"});
}

TEST_F(BadInput, UnknownOptionIsAUsageErrorNamingIt) {
  // CLI11 prints the error and a "Run with --help" hint.
  Finished f = runToEnd(
      bondcastArgv({"send", "--input", "testsrc", "--link", srtLink(9000), "--frobnicate", "1"}),
      path("err.log"));
  EXPECT_EQ(f.exit_code, 2) << f.err;
  EXPECT_NE(f.err.find("--frobnicate"), std::string::npos) << f.err;
  Finished g = runToEnd(bondcastArgv({"recv", "--listen", srtLink(9000), "--output",
                                      path("out.ts").string(), "--frobnicate"}),
                        path("err.log"));
  EXPECT_EQ(g.exit_code, 2) << g.err;
  EXPECT_NE(g.err.find("--frobnicate"), std::string::npos) << g.err;
}

TEST_F(BadInput, UnreadableInputFileIsARuntimeErrorNamingThePath) {
  auto missing = path("no-such-file.ts").string();
  expectFailure(sendArgs("broadcast", missing, srtLink(9000)), 1, {missing});
}

TEST_F(BadInput, ReceiverPortInUseIsARuntimeErrorNamingThePort) {
  std::uint16_t port = freeUdpPort();
  Process first = startReceiver({port}, path("first.ts"));
  ASSERT_TRUE(first.running());
  expectFailure({"recv", "-q", "--listen", srtLink(port), "--output", path("second.ts").string()},
                1, {std::to_string(port)});
  EXPECT_TRUE(first.running()) << "the first receiver died";
}

TEST_F(BadInput, UnreachablePeerIsARuntimeErrorSayingNoLinkConnected) {
  std::uint16_t nobody = freeUdpPort();
  auto args = sendArgs("broadcast", sampleTs().string(), srtLink(nobody));
  args.insert(args.end(), {"--connect-timeout", "1500"});
  expectFailure(args, 1, {"no link could connect", srtLink(nobody)});
}

TEST_F(BadInput, MalformedOutputSpecIsAUsageError) {
  auto recv = [&](const std::string& output) {
    return std::vector<std::string>{"recv",     "-q",  "--listen", srtLink(freeUdpPort()),
                                    "--output", output};
  };
  expectFailure(recv("rtmp://127.0.0.1/live"), 2, {"rtmp://127.0.0.1/live"});
  expectFailure(recv("udp://127.0.0.1"), 2, {"udp://127.0.0.1"});
  auto no_folder = path("no/such/folder/out.ts").string();
  expectFailure(recv(no_folder), 2, {no_folder});
  expectFailure(recv(""), 2, {"--output"});
}

// SRT options in a URI (common/srt_uri.h): an unknown one, one that does not apply
// where it is written and a malformed value are usage errors naming the URI and the
// parameter, before anything connects.
TEST_F(BadInput, SrtOptionsInUrisAreCheckedNamingTheParameter) {
  const std::string ok = kPassphrase;
  expectFailure(sendArgs("adaptive", "testsrc", srtLink(9, "passphrse=" + ok)), 2,
                {"unknown parameter 'passphrse'", "passphrase", "weight"});
  expectFailure(sendArgs("adaptive", "testsrc", srtLink(9, "pbkeylen=20")), 2,
                {"pbkeylen='20'", "16, 24 or 32"});
  expectFailure(sendArgs("adaptive", "testsrc", srtLink(9, "passphrase=short")), 2,
                {"passphrase=", "10 to 79"});
  expectFailure(sendArgs("adaptive", "testsrc", srtLink(9, "latency=500")), 2,
                {"latency= does not apply", "--latency"});
  expectFailure(sendArgs("adaptive", "testsrc", srtLink(9, "streamid=cam")), 2,
                {"streamid= does not apply", "--stream-id"});
  expectFailure(sendArgs("broadcast", "testsrc", srtLink(9, "passphrase=" + ok)), 2,
                {"adaptive links only", "broadcast"});
  expectFailure(sendArgs("adaptive", "srt://:9?latency=abc", srtLink(9)), 2, {"latency='abc'"});
  expectFailure(sendArgs("adaptive", "srt://127.0.0.1:9?passphrase=" + ok, srtLink(9)), 2,
                {"listens for the encoder", "passphrase=***"}, {ok});
  expectFailure(sendArgs("adaptive", "udp://@:9?pkt_size=1316", srtLink(9)), 2,
                {"unknown parameter 'pkt_size'"});

  auto recv = [&](const std::string& listen, const std::string& output) {
    return std::vector<std::string>{"recv", "-q", "--listen", listen, "--output", output};
  };
  const std::string file = path("out.ts").string();
  expectFailure(recv("srt://:9?lattency=200", file), 2,
                {"srt://:9", "unknown parameter 'lattency'", "latency"});
  expectFailure(recv("srt://:9?conntimeo=500", file), 2, {"conntimeo= does not apply"});
  expectFailure(recv("srt://:9?pbkeylen=32", file), 2, {"pbkeylen= needs a passphrase"});
  expectFailure(recv(srtLink(9), "srt://:9?latncy=80"), 2, {"unknown parameter 'latncy'"});
  expectFailure(recv(srtLink(9), "udp://127.0.0.1:9?ttl=3"), 2, {"unknown parameter 'ttl'"});
  expectFailure({"recv", "-q", "--listen", srtLink(9), "--output", file, "--duration", "soon"}, 2,
                {"--duration"});
}

// A listen URI's options hold for that port only: its passphrase refuses a sender
// without it while the receiver's other port takes one; its latency (larger than the
// sender's) becomes the session's playout latency, as SRT's handshake would make it.
TEST_F(BadInput, ListenUriOptionsApplyToTheirPortOnly) {
  const std::uint16_t secret = freeUdpPort();
  const std::uint16_t open = freeUdpPort();
  const std::string secret_listen =
      "srt://127.0.0.1:" + std::to_string(secret) + "?latency=700&passphrase=" + kPassphrase;
  Process receiver =
      Process::start(bondcastArgv({"recv", "--listen", secret_listen, "--listen", srtLink(open),
                                   "--output", path("out.ts").string(), "--stats",
                                   path("recv.jsonl").string(), "--duration", "120s"}),
                     path("recv.log"));
  ASSERT_TRUE(waitUntil(
      [&] {
        return !receiver.running() ||
               (receiver.stderrContains("(port " + std::to_string(secret) + ")") &&
                receiver.stderrContains("(port " + std::to_string(open) + ")"));
      },
      10s));
  ASSERT_TRUE(receiver.running()) << receiver.stderrText();

  // (An adaptive sender: a refused broadcast group can crash libsrt 1.5.1 at exit, issue 16.)
  auto refused = sendArgs("adaptive", sampleTs().string(), srtLink(secret));
  refused.insert(refused.end(), {"--connect-timeout", "3000"});
  expectFailure(refused, 1, {"passphrase"});

  Process on_secret =
      startSender({"--mode", "adaptive", "--input", sampleTs().string(), "--stream-id", "sec",
                   "--latency", "200", "--link", srtLink(secret, "passphrase=" + kPassphrase)},
                  "send-secret");
  Process on_open = startSender({"--mode", "adaptive", "--input", sampleTs().string(),
                                 "--stream-id", "open", "--link", srtLink(open)},
                                "send-open");
  ASSERT_EQ(on_secret.waitExit(40s), 0) << on_secret.stderrText();
  ASSERT_EQ(on_open.waitExit(40s), 0) << on_open.stderrText();
  const auto size = fileSize(sampleTs());
  ASSERT_TRUE(waitUntil([&] { return fileSize(path("out-open.ts")) >= size; }, 10s));
  stopReceiverAt(receiver, path("out-sec.ts"), size);

  const auto final = finalLine(path("recv.jsonl"));
  ASSERT_TRUE(final.is_object());
  std::map<std::string, double> latency;
  for (const auto& st : final["streams"])
    latency[st.value("stream", "")] = st.value("latency_ms", 0.0);
  EXPECT_EQ(latency["sec"], 700.0) << final.dump();
  EXPECT_LT(latency["open"], 700.0) << final.dump();
}

// The receiver expects passphrase A while it writes a stream from a sender with A;
// a second sender with passphrase B is refused, says so, and exits 1; the receiver
// keeps running and the first stream arrives byte-identical.
TEST_F(BadInput, WrongPassphraseIsRefusedAndTheReceiverKeepsItsStream) {
  std::uint16_t port = freeUdpPort();
  auto output = path("out.ts");
  Process receiver = startReceiver({port}, output, {"--passphrase", kPassphrase});
  Process good = startSender({"--mode", "broadcast", "--input", sampleTs().string(), "--link",
                              srtLink(port), "--passphrase", kPassphrase},
                             "good");
  ASSERT_TRUE(waitUntil([&] { return fileSize(output) > 0; }, 10s))
      << "the good sender's stream did not arrive:\n"
      << good.stderrText();

  auto bad = sendArgs("broadcast", sampleTs().string(), srtLink(port));
  bad.insert(bad.end(), {"--passphrase", "not the right one", "--connect-timeout", "3000"});
  expectFailure(bad, 1, {"passphrase"});
  EXPECT_TRUE(receiver.running()) << receiver.stderrText();

  ASSERT_EQ(good.waitExit(40s), 0) << good.stderrText();
  stopReceiverAt(receiver, output, fileSize(sampleTs()));
  auto sent = readBytes(sampleTs());
  auto received = readBytes(output);
  EXPECT_TRUE(sent == received) << describeDifference(sent, received);
}

}  // namespace
}  // namespace bondcast::e2e

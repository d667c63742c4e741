// SPDX-License-Identifier: MPL-2.0
// `--config FILE` of `bondcast send` and `bondcast recv` (app/config_file.h), parsed
// with the very CLI::Apps the program builds: every option has a key that gives it what
// the same value on the command line gives, the command line wins over the file, and a
// bad file is a usage error naming the file, the line and the key.
#include "app/config_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <ostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "app/recv_cli.h"
#include "app/send_cli.h"

namespace bondcast::app {

// Readable failures: gtest would print the structs as bytes.
void PrintTo(const SendCli& c, std::ostream* os) {
  *os << "{mode=" << c.mode << " policy=" << c.policy << " redundancy=" << c.redundancy_percent
      << " input=" << c.input << " links=[";
  for (const auto& l : c.links)
    *os << l << ";";
  *os << "] latency=" << c.latency_ms << " passphrase=" << c.passphrase
      << " stream_id=" << c.stream_id << " stats=" << c.stats << " loop=" << c.loop
      << " bitrate=" << c.bitrate << " connect_timeout=" << c.connect_timeout_ms
      << " verbosity=" << c.verbosity << "}";
}

void PrintTo(const RecvCli& c, std::ostream* os) {
  *os << "{listen=[";
  for (const auto& l : c.listen)
    *os << l << ";";
  *os << "] output=" << c.output << " latency=" << c.latency_ms << " passphrase=" << c.passphrase
      << " allow_streams=[";
  for (const auto& a : c.allow_streams)
    *os << a << ";";
  *os << "] stats=" << c.stats << " duration=" << c.duration << " packet_log=" << c.packet_log
      << " verbosity=" << c.verbosity << "}";
}

namespace {

// `bondcast NAME ARGS...` parsed by a root app holding the program's NAME subcommand:
// what its options stored. Throws what CLI11 throws (main turns a CLI::ParseError into
// exit code 2).
template <class Cli>
using AddOptions = std::function<CLI::App*(CLI::App&, const std::shared_ptr<Cli>&)>;

template <class Cli>
Cli parse(const AddOptions<Cli>& add, const std::string& name,
          const std::vector<std::string>& args) {
  CLI::App root{"bondcast"};
  auto cli = std::make_shared<Cli>();
  add(root, cli);
  std::vector<const char*> argv = {"bondcast", name.c_str()};
  for (const auto& a : args)
    argv.push_back(a.c_str());
  root.parse(static_cast<int>(argv.size()), argv.data());
  return *cli;
}

SendCli parseSend(const std::vector<std::string>& args) {
  return parse<SendCli>(addSendOptions, "send", args);
}

RecvCli parseRecv(const std::vector<std::string>& args) {
  return parse<RecvCli>(addRecvOptions, "recv", args);
}

// One option's value, in a config file and on the command line.
struct Case {
  std::string key;
  std::string toml;
  std::vector<std::string> args;
};

// A value for every option of `bondcast send`, none of them the default.
const std::vector<Case> kSendCases = {
    {"mode", R"("adaptive")", {"--mode", "adaptive"}},
    {"policy", R"("min-rtt")", {"--policy", "min-rtt"}},
    {"redundancy-budget", "2.5", {"--redundancy-budget", "2.5"}},
    {"input", R"("udp://@:5000")", {"--input", "udp://@:5000"}},
    {"link",
     R"(["srt://studio:9000?bind=10.0.0.2", "srt://studio:9000?bind=10.0.1.2"])",
     {"--link", "srt://studio:9000?bind=10.0.0.2", "--link", "srt://studio:9000?bind=10.0.1.2"}},
    {"latency", "300", {"--latency", "300"}},
    {"passphrase", R"("a long secret")", {"--passphrase", "a long secret"}},
    {"stream-id", R"("cam1")", {"--stream-id", "cam1"}},
    {"stats", R"("send-stats.jsonl")", {"--stats", "send-stats.jsonl"}},
    {"http", R"("0.0.0.0:9100")", {"--http", "0.0.0.0:9100"}},
    {"loop", "true", {"--loop"}},
    {"bitrate", R"("3mbit")", {"--bitrate", "3mbit"}},
    {"connect-timeout", "1500", {"--connect-timeout", "1500"}},
    {"verbose", "2", {"-vv"}},
    {"quiet", "true", {"-q"}},
    {"view", "true", {"--view"}},
    {"no-view", "true", {"--no-view"}},
};
// What send requires, on the command line of every case that does not set it.
const std::vector<Case> kSendRequired = {
    {"input", R"("testsrc")", {"--input", "testsrc"}},
    {"link", R"(["srt://127.0.0.1:9000"])", {"--link", "srt://127.0.0.1:9000"}},
};

const std::vector<Case> kRecvCases = {
    {"listen",
     R"(["srt://:9000", "srt://:9001?latency=700"])",
     {"--listen", "srt://:9000", "--listen", "srt://:9001?latency=700"}},
    {"output", R"("live-{id}.ts")", {"--output", "live-{id}.ts"}},
    {"latency", "500", {"--latency", "500"}},
    {"passphrase", R"("a long secret")", {"--passphrase", "a long secret"}},
    {"allow-stream",
     R"(["cam1=first-secret-xyz", "cam2"])",
     {"--allow-stream", "cam1=first-secret-xyz", "--allow-stream", "cam2"}},
    {"stats", R"("recv-stats.jsonl")", {"--stats", "recv-stats.jsonl"}},
    {"http", R"("[::]:9101")", {"--http", "[::]:9101"}},
    {"duration", R"("2m")", {"--duration", "2m"}},
    {"packet-log", R"("packets.csv")", {"--packet-log", "packets.csv"}},
    {"verbose", "true", {"-v"}},
    {"quiet", "true", {"--quiet"}},
    {"view", "true", {"--view"}},
    {"no-view", "true", {"--no-view"}},
};
const std::vector<Case> kRecvRequired = {
    {"listen", R"(["srt://:9000"])", {"--listen", "srt://:9000"}},
    {"output", R"("out.ts")", {"--output", "out.ts"}},
};

// A folder per test for its config files.
class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("bondcast-config-test-" + std::to_string(::getuid())) /
           (std::string(info->name()) + "." + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `toml` to NAME in the test's folder; returns its path.
  std::string write(const std::string& name, const std::string& toml) {
    auto path = dir_ / name;
    std::ofstream(path) << toml;
    return path.string();
  }

  // For every option of the command (but help and config): a file setting it gives
  // what the same value on the command line gives, and not the default.
  template <class Cli>
  void expectEveryOptionRoundTrips(const AddOptions<Cli>& add, const std::string& name,
                                   const std::vector<Case>& cases,
                                   const std::vector<Case>& required) {
    CLI::App root;
    CLI::App* sub = add(root, std::make_shared<Cli>());
    std::vector<std::string> required_args;
    for (const auto& r : required)
      required_args.insert(required_args.end(), r.args.begin(), r.args.end());
    const Cli defaults = parse(add, name, required_args);
    std::set<std::string> not_in_files, tested;
    for (const CLI::Option* op : sub->get_options()) {
      const std::string key = op->get_lnames().front();
      if (!op->get_configurable()) {
        not_in_files.insert(key);
        continue;
      }
      SCOPED_TRACE(name + " option --" + key);
      auto c =
          std::find_if(cases.begin(), cases.end(), [&](const Case& c) { return c.key == key; });
      if (c == cases.end()) {
        ADD_FAILURE() << "no round-trip case for --" << key << ": add one";
        continue;
      }
      tested.insert(key);
      std::vector<std::string> base;
      for (const auto& r : required) {
        if (r.key != key)
          base.insert(base.end(), r.args.begin(), r.args.end());
      }
      auto on_command_line = base;
      on_command_line.insert(on_command_line.end(), c->args.begin(), c->args.end());
      auto from_file = base;
      from_file.insert(from_file.end(),
                       {"--config", write(name + "-" + key + ".toml", key + " = " + c->toml)});

      Cli expected = parse(add, name, on_command_line);
      Cli got = parse(add, name, from_file);
      EXPECT_EQ(got, expected);
      EXPECT_NE(got, defaults) << "the case's value changes nothing: it proves nothing";
    }
    EXPECT_EQ(not_in_files, (std::set<std::string>{"help", "config"}));
    EXPECT_EQ(tested.size(), cases.size()) << "a case names no option of " << name;
  }

  std::filesystem::path dir_;
};

// A config file's problem: a CLI::ConfigError (exit 2) whose message holds every needle.
template <class F>
void expectConfigError(F parse_it, const std::vector<std::string>& needles) {
  try {
    parse_it();
    ADD_FAILURE() << "no error";
  } catch (const CLI::ConfigError& e) {
    for (const auto& needle : needles)
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << "'" << needle << "' not in: " << e.what();
  }
}

TEST_F(ConfigFile, EverySendOptionHasAKeyThatGivesWhatTheCommandLineGives) {
  expectEveryOptionRoundTrips<SendCli>(addSendOptions, "send", kSendCases, kSendRequired);
}

TEST_F(ConfigFile, EveryRecvOptionHasAKeyThatGivesWhatTheCommandLineGives) {
  expectEveryOptionRoundTrips<RecvCli>(addRecvOptions, "recv", kRecvCases, kRecvRequired);
}

TEST_F(ConfigFile, AWholeSendSetUpComesFromTheFile) {
  auto file = write("send.toml", R"(# the field kit
mode = "adaptive"
latency = 300
input = "udp://@:5000"
link = [
  "srt://studio:9000?bind=10.0.0.2",
  "srt://studio:9000?bind=10.0.1.2&cost=3",
]
redundancy-budget = 3
)");
  SendCli cli = parseSend({"--config", file});
  EXPECT_EQ(cli.mode, "adaptive");
  EXPECT_EQ(cli.latency_ms, 300);
  EXPECT_EQ(cli.input, "udp://@:5000");
  EXPECT_EQ(cli.links, (std::vector<std::string>{"srt://studio:9000?bind=10.0.0.2",
                                                 "srt://studio:9000?bind=10.0.1.2&cost=3"}));
  EXPECT_EQ(cli.redundancy_percent, 3.0);
}

TEST_F(ConfigFile, TheCommandLineOverridesTheFile) {
  auto file = write("send.toml", R"(
mode = "adaptive"
latency = 300
input = "testsrc"
link = ["srt://a:9000", "srt://b:9000"]
verbose = 2
)");
  // Before and after --config alike.
  for (auto args : {std::vector<std::string>{"--config", file, "--latency", "500", "--link",
                                             "srt://c:9000", "-q"},
                    std::vector<std::string>{"--latency", "500", "-q", "--link", "srt://c:9000",
                                             "--config", file}}) {
    SendCli cli = parseSend(args);
    EXPECT_EQ(cli.latency_ms, 500);
    EXPECT_EQ(cli.links, std::vector<std::string>{"srt://c:9000"}) << "the file's links stay";
    EXPECT_EQ(cli.verbosity, 0) << "-q did not beat verbose = 2";
    EXPECT_EQ(cli.mode, "adaptive");
    EXPECT_EQ(cli.input, "testsrc");
  }
  auto quiet =
      write("quiet.toml", "listen = [\"srt://:9000\"]\noutput = \"out.ts\"\nquiet = true\n");
  EXPECT_EQ(parseRecv({"--config", quiet, "-v"}).verbosity, 2) << "-v did not beat quiet = true";
  EXPECT_EQ(parseRecv({"--config", quiet}).verbosity, 0);
  auto no_view =
      write("no-view.toml", "listen = [\"srt://:9000\"]\noutput = \"out.ts\"\nno-view = true\n");
  EXPECT_EQ(parseRecv({"--config", no_view, "--view"}).view, ViewChoice::kOn)
      << "--view did not beat no-view = true";
  EXPECT_EQ(parseRecv({"--config", no_view}).view, ViewChoice::kOff);
}

TEST_F(ConfigFile, RunLengthsAndBitratesTakeBareNumbersAsTheCommandLineDoes) {
  auto recv = [&](const std::string& duration) {
    return parseRecv({"--listen", "srt://:9000", "--output", "out.ts", "--config",
                      write("recv.toml", "duration = " + duration)})
        .duration;
  };
  EXPECT_EQ(recv("30"), "30");
  EXPECT_EQ(recv("1.5"), "1.5");
  EXPECT_EQ(recv(R"("1500ms")"), "1500ms");
  auto send = parseSend({"--input", "testsrc", "--link", "srt://a:9000", "--config",
                         write("send.toml", "bitrate = 3000000")});
  EXPECT_EQ(send.bitrate, "3000000");
}

TEST_F(ConfigFile, AnHttpAddressIsAStringOrABarePort) {
  auto recv = [&](const std::string& http) {
    return parseRecv({"--listen", "srt://:9000", "--output", "out.ts", "--config",
                      write("recv.toml", "http = " + http)})
        .http;
  };
  EXPECT_EQ(recv("9100"), "9100");
  EXPECT_EQ(recv(R"("[::1]:9100")"), "[::1]:9100");
  expectConfigError([&] { recv("true"); }, {"recv.toml:1:", "http must be an address"});
  expectConfigError([&] { recv(R"("nonsense")"); },
                    {"recv.toml:1:", "'nonsense': the port must be"});
}

TEST_F(ConfigFile, MalformedTomlIsAUsageErrorNamingTheFileAndLine) {
  auto file = write("bad.toml", "latency = 300\nmode = \"adaptive\n");
  expectConfigError([&] { parseSend({"--config", file}); }, {file + ":2:"});
  auto twice = write("twice.toml", "latency = 300\n\nlatency = 400\n");
  expectConfigError([&] { parseSend({"--config", twice}); }, {twice + ":3:", "latency"});
}

TEST_F(ConfigFile, AnUnknownKeyIsAUsageErrorNamingTheKeyAndLine) {
  auto file = write("send.toml", "latency = 300\nlatncy = 400\n");
  expectConfigError(
      [&] {
        parseSend({"--config", file});
      },
      {file + ":2:1:", "unknown key 'latncy'", "latency", "stream-id"});
  // Short option names are not keys.
  auto short_name = write("short.toml", "l = [\"srt://a:9000\"]\n");
  expectConfigError([&] { parseSend({"--config", short_name}); }, {"unknown key 'l'"});
  auto section = write("section.toml", "[send]\nlatency = 300\n");
  expectConfigError(
      [&] {
        parseSend({"--config", section});
      },
      {section + ":1:", "unknown key 'send'", "without [sections]"});
}

TEST_F(ConfigFile, SendKeysInARecvFileAreUnknown) {
  auto file = write("recv.toml", R"(listen = ["srt://:9000"]
output = "out.ts"
mode = "adaptive"
)");
  expectConfigError(
      [&] {
        parseRecv({"--config", file});
      },
      {file + ":3:1:", "unknown key 'mode'", "bondcast recv takes listen, output"});
}

TEST_F(ConfigFile, AValueOfTheWrongTypeIsAUsageErrorNamingTheKey) {
  auto send = [&](const std::string& toml) {
    auto file = write("send.toml", "input = \"testsrc\"\nlink = [\"srt://a:9000\"]\n" + toml);
    return [file] { parseSend({"--config", file}); };
  };
  expectConfigError(send(R"(latency = "300")"),
                    {"send.toml:3:11:", "latency must be an integer, not a string"});
  expectConfigError(send("redundancy-budget = true"),
                    {"redundancy-budget must be a number, not a boolean"});
  expectConfigError(send("loop = 1"), {"loop must be true or false, not an integer"});
  expectConfigError(send(R"(verbose = "yes")"), {"verbose must be true, false or a count"});
  expectConfigError(send("verbose = -1"), {"verbose must be a count"});
  expectConfigError(send("stream-id = 7"), {"stream-id must be a string, not an integer"});
  expectConfigError(send("bitrate = 2.5"), {"bitrate must be a bitrate", "not a float"});
  expectConfigError(send("redundancy-budget = nan"), {"redundancy-budget must be a finite number"});
  auto file = write("links.toml", "input = \"testsrc\"\nlink = \"srt://a:9000\"\n");
  expectConfigError(
      [&] {
        parseSend({"--config", file});
      },
      {"links.toml:2:8:", "link must be an array of strings, not a string"});
  file = write("element.toml", "input = \"testsrc\"\nlink = [\n  \"srt://a:9000\",\n  9000,\n]\n");
  expectConfigError(
      [&] {
        parseSend({"--config", file});
      },
      {"element.toml:4:3:", "link must be an array of strings, not an integer"});
  file = write("empty.toml", "input = \"testsrc\"\nlink = []\n");
  expectConfigError([&] { parseSend({"--config", file}); }, {"empty.toml:2:", "link = []"});
  auto recv =
      write("recv.toml", "listen = [\"srt://:9000\"]\noutput = \"o.ts\"\nduration = true\n");
  expectConfigError(
      [&] {
        parseRecv({"--config", recv});
      },
      {"recv.toml:3:", "duration must be a duration", "not a boolean"});
}

// --allow-stream is repeatable: the file gives it an array of strings, which the command
// line's --allow-stream values replace (as for every repeated option).
TEST_F(ConfigFile, AllowStreamIsAnArrayOfStringsTheCommandLineReplaces) {
  auto file = write("recv.toml",
                    "listen = [\"srt://:9000\"]\noutput = \"o-{id}.ts\"\n"
                    "allow-stream = [\"cam1=first-secret-xyz\", \"cam2\"]\n");
  EXPECT_EQ(parseRecv({"--config", file}).allow_streams,
            (std::vector<std::string>{"cam1=first-secret-xyz", "cam2"}));
  EXPECT_EQ(parseRecv({"--config", file, "--allow-stream", "cam3"}).allow_streams,
            (std::vector<std::string>{"cam3"}));
  auto one =
      write("one.toml", "listen = [\"srt://:9000\"]\noutput = \"o.ts\"\nallow-stream = \"cam1\"\n");
  expectConfigError(
      [&] {
        parseRecv({"--config", one});
      },
      {"one.toml:3:16:", "allow-stream must be an array of strings, not a string"});
}

TEST_F(ConfigFile, AKeyTheCommandLineOverridesIsStillTypeChecked) {
  auto file = write("send.toml", "latency = \"fast\"\n");
  expectConfigError(
      [&] {
        parseSend(
            {"--input", "testsrc", "--link", "srt://a:1", "--latency", "300", "--config", file});
      },
      {"latency must be an integer"});
}

TEST_F(ConfigFile, ValuesGoThroughTheOptionsOwnValidatorsNamingTheLine) {
  auto send = [&](const std::string& toml) {
    auto file = write("send.toml", "input = \"testsrc\"\nlink = [\"srt://a:9000\"]\n" + toml);
    return [file] { parseSend({"--config", file}); };
  };
  // The messages CLI11 gives the same values on the command line, after the place.
  expectConfigError(send("latency = 5"), {"send.toml:3:11: ", "--latency", "not in range"});
  expectConfigError(send("redundancy-budget = 150.0"),
                    {"send.toml:3:21: ", "--redundancy-budget", "not in range"});
  expectConfigError(send("connect-timeout = 99999999999"),
                    {"send.toml:3:19: ", "--connect-timeout", "99999999999"});
  EXPECT_THROW(parseSend({"--input", "testsrc", "--link", "srt://a:1", "--latency", "5"}),
               CLI::ValidationError)
      << "the command line takes what the file may not";
}

TEST_F(ConfigFile, ConfigAndHelpCannotBeSetInTheFile) {
  auto file =
      write("send.toml", "input = \"testsrc\"\nlink = [\"srt://a:1\"]\nconfig = \"x.toml\"\n");
  expectConfigError(
      [&] {
        parseSend({"--config", file});
      },
      {"send.toml:3:1:", "config cannot be set in a config file"});
  file = write("help.toml", "help = true\n");
  expectConfigError(
      [&] {
        parseRecv({"--config", file});
      },
      {"help.toml:1:1:", "help cannot be set in a config file"});
}

TEST_F(ConfigFile, AnUnreadableFileIsAUsageErrorNamingIt) {
  auto missing = (dir_ / "missing.toml").string();
  expectConfigError(
      [&] {
        parseSend({"--config", missing});
      },
      {"--config " + missing + ": cannot read it: No such file or directory"});
  expectConfigError(
      [&] {
        parseSend({"--config", dir_.string()});
      },
      {dir_.string() + ": cannot read it: it is a folder"});
}

TEST_F(ConfigFile, HelpIsShownEvenWithABadFile) {
  auto file = write("bad.toml", "latency = \n");
  EXPECT_THROW(parseSend({"--config", file, "--help"}), CLI::CallForHelp);
}

TEST_F(ConfigFile, HelpSaysWhatTheFileHolds) {
  for (const std::string name : {"send", "recv"}) {
    CLI::App root;
    CLI::App* sub = name == "send" ? addSendOptions(root, std::make_shared<SendCli>())
                                   : addRecvOptions(root, std::make_shared<RecvCli>());
    std::string help = sub->help();
    EXPECT_NE(help.find("--config FILE"), std::string::npos) << help;
    EXPECT_NE(help.find("TOML"), std::string::npos) << help;
    EXPECT_NE(help.find("command line override"), std::string::npos) << help;
  }
}

// The example in --config's help is a valid file of real keys.
TEST_F(ConfigFile, TheHelpsExampleIsAValidConfigFile) {
  for (const std::string name : {"send", "recv"}) {
    SCOPED_TRACE(name);
    CLI::App root;
    CLI::App* sub = name == "send" ? addSendOptions(root, std::make_shared<SendCli>())
                                   : addRecvOptions(root, std::make_shared<RecvCli>());
    std::string help = sub->get_option("--config")->get_description();
    auto from = help.find("long name: "), to = help.find("; repeatable");
    ASSERT_NE(from, std::string::npos) << help;
    ASSERT_NE(to, std::string::npos) << help;
    std::string example = help.substr(from + 11, to - from - 11);
    // "a = 1, b = [2, 3]" -> one line per key.
    std::string toml = std::regex_replace(example, std::regex(", (?=[a-z-]+ = )"), "\n");
    auto file = write(name + ".toml", toml);
    EXPECT_NO_THROW(name == "send" ? (void)parseSend({"--config", file})
                                   : (void)parseRecv({"--config", file}))
        << toml;
    EXPECT_GE(std::count(toml.begin(), toml.end(), '\n'), 3) << toml;
  }
}

// The README's examples (```toml blocks whose first line names send.toml or recv.toml)
// are valid files of real keys.
TEST_F(ConfigFile, TheReadmesExamplesAreValidConfigFiles) {
  std::ifstream in(std::string(BONDCAST_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "cannot read README.md";
  std::stringstream readme;
  readme << in.rdbuf();
  std::string text = readme.str();
  std::set<std::string> checked;
  const std::string fence = "```toml\n";
  for (auto at = text.find(fence); at != std::string::npos; at = text.find(fence, at + 1)) {
    auto start = at + fence.size();
    auto end = text.find("```", start);
    ASSERT_NE(end, std::string::npos);
    std::string toml = text.substr(start, end - start);
    SCOPED_TRACE(toml);
    std::string name = toml.rfind("# send.toml", 0) == 0   ? "send"
                       : toml.rfind("# recv.toml", 0) == 0 ? "recv"
                                                           : "";
    ASSERT_NE(name, "") << "a toml block that names neither send.toml nor recv.toml";
    auto file = write(name + ".toml", toml);
    if (name == "send") {
      EXPECT_NE(parseSend({"--config", file}), SendCli{});
    } else {
      EXPECT_NE(parseRecv({"--config", file}), RecvCli{});
    }
    checked.insert(name);
  }
  EXPECT_EQ(checked, (std::set<std::string>{"send", "recv"}));
}

// The examples the .deb ships for the systemd units (packaging/examples) are valid files
// of real keys.
TEST_F(ConfigFile, ThePackagesExamplesAreValidConfigFiles) {
  const std::string dir = std::string(BONDCAST_SOURCE_DIR) + "/packaging/examples/";
  auto send = parseSend({"--config", dir + "example-send.toml"});
  EXPECT_EQ(send.mode, "adaptive");
  EXPECT_EQ(send.links.size(), 2u);
  auto recv = parseRecv({"--config", dir + "example-recv.toml"});
  EXPECT_EQ(recv.listen.size(), 2u);
  EXPECT_EQ(recv.latency_ms, 300);
}

}  // namespace
}  // namespace bondcast::app

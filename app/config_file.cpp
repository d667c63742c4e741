// SPDX-License-Identifier: MPL-2.0
#include "app/config_file.h"

#include <spdlog/fmt/fmt.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <vector>

namespace bondcast::app {
namespace {

// What a value in the file must be for an option.
enum class Kind {
  kText,         // TEXT: a string
  kInteger,      // INT, UINT: an integer
  kNumber,       // FLOAT: an integer or a float
  kDuration,     // DURATION: a string ("30s") or a number of seconds
  kBitrate,      // BITRATE: a string ("4mbit") or an integer in bit/s
  kAddress,      // [ADDR:]PORT: a string ("0.0.0.0:9100") or an integer port
  kFlag,         // a flag given at most once: true or false
  kCountedFlag,  // a flag that can be repeated (-vv): true, false or a count
};

struct Expected {
  Kind kind;
  bool repeatable;
};

// From the type CLI11 shows in --help ("INT:INT in [20 - 10000]" is an INT), so that
// what the help says an option takes is what the file must hold.
Expected expectedFor(const CLI::Option& op) {
  if (op.get_expected_max() == 0) {
    bool counted = op.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
    return {counted ? Kind::kCountedFlag : Kind::kFlag, false};
  }
  bool repeatable = op.get_items_expected_max() > 1;
  std::string type = op.get_type_name();
  if (type == "[ADDR:]PORT")
    return {Kind::kAddress, repeatable};
  if (type == "NAME[=PASSPHRASE]")
    return {Kind::kText, repeatable};
  type = type.substr(0, type.find(':'));
  if (type == "TEXT")
    return {Kind::kText, repeatable};
  if (type == "INT" || type == "UINT")
    return {Kind::kInteger, repeatable};
  if (type == "FLOAT")
    return {Kind::kNumber, repeatable};
  if (type == "DURATION")
    return {Kind::kDuration, repeatable};
  if (type == "BITRATE")
    return {Kind::kBitrate, repeatable};
  // A programming error: a new option type needs its TOML form here.
  throw std::logic_error(op.get_name() + ": config files know no values of type " + type);
}

std::string describe(Kind kind, bool plural) {
  switch (kind) {
    case Kind::kText:
      return plural ? "strings" : "a string";
    case Kind::kInteger:
      return plural ? "integers" : "an integer";
    case Kind::kNumber:
      return plural ? "numbers" : "a number";
    case Kind::kDuration:
      return plural ? "durations (strings such as \"30s\" or numbers of seconds)"
                    : "a duration (a string such as \"30s\" or a number of seconds)";
    case Kind::kBitrate:
      return plural ? "bitrates (strings such as \"4mbit\" or integers in bit/s)"
                    : "a bitrate (a string such as \"4mbit\" or an integer in bit/s)";
    case Kind::kAddress:
      return plural ? "addresses (strings such as \"0.0.0.0:9100\" or integer ports)"
                    : "an address (a string such as \"0.0.0.0:9100\" or an integer port)";
    case Kind::kFlag:
      return "true or false";
    case Kind::kCountedFlag:
      return "true, false or a count (verbose = 2 is -vv)";
  }
  return "?";
}

std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Problems in the file: "FILE:LINE:COLUMN: what".
class FileErrors {
 public:
  explicit FileErrors(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const toml::source_region& at, const std::string& what) const {
    throw CLI::ConfigError(
        fmt::format("{}:{}:{}: {}", path_, at.begin.line, at.begin.column, what));
  }

 private:
  std::string path_;
};

std::string readFile(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return CLI::ConfigError(fmt::format("--config {}: cannot read it: {}", path, why));
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw fail("it is a folder");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw fail(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    throw fail(std::strerror(errno));
  return text.str();
}

// A float as the command line would write it; "inf" and "nan" are no one's setting.
std::optional<std::string> finiteText(const toml::node& node, const FileErrors& errors,
                                      const std::string& key) {
  double v = node.as_floating_point()->get();
  if (!std::isfinite(v))
    errors.fail(node.source(), key + " must be a finite number");
  return fmt::format("{}", v);
}

// The command-line text of one value of an option of `kind`, or nullopt if the value
// has another type.
std::optional<std::string> argumentText(Kind kind, const toml::node& node, const FileErrors& errors,
                                        const std::string& key) {
  bool is_string = node.is_string(), is_integer = node.is_integer();
  bool is_float = node.is_floating_point();
  switch (kind) {
    case Kind::kText:
      if (is_string)
        return node.as_string()->get();
      break;
    case Kind::kInteger:
      if (is_integer)
        return std::to_string(node.as_integer()->get());
      break;
    case Kind::kNumber:
    case Kind::kDuration:
      if (is_string && kind == Kind::kDuration)
        return node.as_string()->get();
      if (is_integer)
        return std::to_string(node.as_integer()->get());
      if (is_float)
        return finiteText(node, errors, key);
      break;
    case Kind::kBitrate:
    case Kind::kAddress:
      if (is_string)
        return node.as_string()->get();
      if (is_integer)
        return std::to_string(node.as_integer()->get());
      break;
    case Kind::kFlag:
    case Kind::kCountedFlag:
      break;
  }
  return std::nullopt;
}

[[noreturn]] void wrongType(const FileErrors& errors, const std::string& key, const toml::node& at,
                            const std::string& want) {
  errors.fail(at.source(), fmt::format("{} must be {}, not {}", key, want, describe(at)));
}

// The results the command line would give `op` for this value of `key`: one per
// occurrence of the option (or of a flag).
std::vector<std::string> argumentsFor(const CLI::Option& op, const std::string& key,
                                      const toml::node& node, const FileErrors& errors) {
  Expected expected = expectedFor(op);
  if (expected.kind == Kind::kFlag || expected.kind == Kind::kCountedFlag) {
    // As often as the flag would be given: `true` once, `false` never, N N times.
    std::int64_t times = 0;
    if (node.is_boolean()) {
      times = node.as_boolean()->get() ? 1 : 0;
    } else if (node.is_integer() && expected.kind == Kind::kCountedFlag) {
      times = node.as_integer()->get();
      if (times < 0 || times > 9)
        errors.fail(node.source(), fmt::format("{} must be a count from 0 to 9", key));
    } else {
      wrongType(errors, key, node, describe(expected.kind, false));
    }
    return std::vector<std::string>(static_cast<std::size_t>(times), op.get_flag_value(key, ""));
  }
  std::vector<std::string> args;
  if (!expected.repeatable) {
    auto text = argumentText(expected.kind, node, errors, key);
    if (!text)
      wrongType(errors, key, node, describe(expected.kind, false));
    args.push_back(*text);
    return args;
  }
  const toml::array* array = node.as_array();
  if (array == nullptr)
    wrongType(errors, key, node, "an array of " + describe(expected.kind, true));
  if (array->empty())
    errors.fail(node.source(), key + " = [] gives no value; leave the key out instead");
  for (const toml::node& element : *array) {
    auto text = argumentText(expected.kind, element, errors, key);
    if (!text)
      wrongType(errors, key, element, "an array of " + describe(expected.kind, true));
    args.push_back(*text);
  }
  return args;
}

CLI::Option* optionNamed(CLI::App& sub, const std::string& key) {
  for (CLI::Option* op : sub.get_options()) {
    const auto& names = op->get_lnames();
    if (std::find(names.begin(), names.end(), key) != names.end())
      return op;
  }
  return nullptr;
}

std::string knownKeys(CLI::App& sub) {
  std::string keys;
  for (CLI::Option* op : sub.get_options()) {
    if (op->get_configurable() && !op->get_lnames().empty())
      keys += (keys.empty() ? "" : ", ") + op->get_lnames().front();
  }
  return keys;
}

// One key of the file, checked and turned into command-line results.
struct Setting {
  CLI::Option* option;
  std::vector<std::string> args;
  toml::source_region where;
};

}  // namespace

CLI::Option* addConfigOption(CLI::App& sub, const std::string& example) {
  CLI::App* app = &sub;
  auto* op = sub.add_option_function<std::string>(
      "--config", [app](const std::string& path) { applyConfigFile(*app, path); },
      "read options from this TOML file, one KEY = VALUE per option, KEY its long name: " +
          example +
          "; repeatable options as arrays, flags true or false (verbose: true or a count); "
          "options on the command line override the file's");
  op->type_name("FILE")->configurable(false);
  return op;
}

void applyConfigFile(CLI::App& sub, const std::string& path) {
  if (const CLI::Option* help = sub.get_help_ptr(); help != nullptr && help->count() > 0)
    return;
  FileErrors errors(path);
  std::string text = readFile(path);
  toml::table file;
  try {
    file = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    errors.fail(e.source(), std::string(e.description()));
  }

  // Checked in the file's order, so that the first error reported is the first one in
  // the file (a toml::table is ordered by key).
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, node] : file)
    entries.emplace_back(&key, &node);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto &x = a.first->source().begin, &y = b.first->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  std::vector<Setting> settings;
  for (const auto& [key_ptr, node] : entries) {
    const std::string key(key_ptr->str());
    CLI::Option* op = optionNamed(sub, key);
    if (op == nullptr) {
      std::string hint =
          node->is_table() ? " (options go at the top of the file, without [sections])" : "";
      errors.fail(key_ptr->source(), fmt::format("unknown key '{}'{}: bondcast {} takes {}", key,
                                                 hint, sub.get_name(), knownKeys(sub)));
    }
    if (!op->get_configurable())
      errors.fail(key_ptr->source(), fmt::format("{} cannot be set in a config file", key));
    settings.push_back({op, argumentsFor(*op, key, *node, errors), node->source()});
  }

  // Applied in the order the options were added, as CLI11 runs command-line options.
  for (CLI::Option* op : sub.get_options()) {
    auto s = std::find_if(settings.begin(), settings.end(),
                          [op](const Setting& s) { return s.option == op; });
    if (s == settings.end() || op->count() > 0 || s->args.empty())
      continue;
    for (const auto& arg : s->args)
      op->add_result(arg);
    try {
      op->run_callback();
    } catch (const CLI::Error& e) {
      errors.fail(s->where, e.what());
    }
  }
}

}  // namespace bondcast::app

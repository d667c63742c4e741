// SPDX-License-Identifier: MPL-2.0
// `--config FILE`: a subcommand's options read from a TOML file.
//
// The file holds `KEY = VALUE` lines at its top level. Each key is the long name of one
// of the subcommand's options (`latency = 300`, `stream-id = "cam1"`), each value is
// what the command line would take: a string for a TEXT or NAME[=PASSPHRASE] option, an
// integer for INT and UINT, a number for FLOAT, a string or a number of seconds for
// DURATION, a string or an integer in bit/s for BITRATE, a string or an integer port for
// [ADDR:]PORT (the types `--help` shows); an array of them for an option that can be
// repeated (`link = ["srt://a:9000", "srt://b:9000"]`); true or false for a flag, or a
// count for a flag that can be repeated (`verbose = 2` is `-vv`).
//
// An option on the command line overrides the file's key for it (a repeated option's
// values from the command line replace the file's array). A value from the file reaches
// CLI11 as the very text the command line would give it, so CLI11 converts and
// validates it exactly as it does an argument. A key that the command line overrides is
// still checked for its TOML type.
//
// Why not CLI11's own config support (App::set_config with a CLI::Config subclass):
// CLI11 2.1.2, Debian 12's, reads config files for the root app only; a subcommand's
// set_config option is accepted and then never read, not even when the file is missing.
// Its built-in reader is also line-based, not a full TOML parser, and its items carry no
// line numbers, which every error here names.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace bondcast::app {

// Adds `--config FILE` to `sub`, with `example` (a line or two of TOML) in its help.
// Call it before adding sub's other options: CLI11 runs option callbacks in the order
// the options were added, and the file's flags (verbose, quiet) must act before the
// command line's so that the command line's win.
CLI::Option* addConfigOption(CLI::App& sub, const std::string& example);

// What `--config FILE` does once CLI11 has parsed the whole command line and before it
// checks required options: reads `path` and gives each key's value to the option of
// that name in `sub`, unless the command line set it. Throws CLI::ConfigError (a usage
// error: exit 2) for an unreadable file, malformed TOML, a key that is not one of sub's
// options (or is `config` or `help`), a value of the wrong type or one the option's
// validators refuse; the message names the file, and the line and column of the key or
// value at fault. Does nothing while help is asked for.
void applyConfigFile(CLI::App& sub, const std::string& path);

}  // namespace bondcast::app
